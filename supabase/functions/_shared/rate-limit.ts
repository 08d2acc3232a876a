import type { Sql } from "./db.ts";

/** A rate-limit decision; when refused, how long until a token is there. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds, at least 1: what a `Retry-After` header says. */
  retryAfterSeconds: number;
  /** The precise wait, for a worker that paces itself (0.2 s at 5/s, not 1 s). */
  retryAfterMs?: number;
}

/** A token bucket: `ratePerSecond` sustained, `burst` at once. */
export interface RateLimitPolicy {
  ratePerSecond: number;
  burst: number;
}

/** Takes one token from the named bucket. */
export type RateLimiter = (key: string, policy: RateLimitPolicy) => Promise<RateLimitDecision>;

/**
 * Token buckets kept in Postgres (`take_rate_limit_token`), so a limit holds across every
 * function instance; one upsert round trip per request.
 */
export function createPostgresRateLimiter(sql: Sql): RateLimiter {
  return async (key, policy) => {
    const [row] = await sql<{ allowed: boolean; retry_after_seconds: number }[]>`
      select * from public.take_rate_limit_token(${key}, ${policy.ratePerSecond}, ${policy.burst})`;
    return {
      allowed: row.allowed,
      retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after_seconds)),
      retryAfterMs: Math.ceil(row.retry_after_seconds * 1000),
    };
  };
}

/** `limit` requests a minute, all of which may come at once. */
export function perMinute(limit: number): RateLimitPolicy {
  return { ratePerSecond: limit / 60, burst: limit };
}
