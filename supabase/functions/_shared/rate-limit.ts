import type { Sql } from "./db.ts";

/** A rate-limit decision; `retryAfterSeconds` is set when refused. */
export interface RateLimitDecision {
  allowed: boolean;
  retryAfterSeconds: number;
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
    return { allowed: row.allowed, retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after_seconds)) };
  };
}
