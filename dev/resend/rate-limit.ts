/** Resend's default per-team limit. */
export const DEFAULT_RATE_LIMIT = 5;

/** The outcome of asking for one request's worth of budget. */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Whole seconds until the bucket is full again. */
  resetSeconds: number;
  /** Whole seconds until the next request would be allowed (at least 1, as Resend never says 0). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** True when `perSecond` means "no limit at all". */
export function isUnlimited(perSecond: number): boolean {
  return !(perSecond > 0) || perSecond === Infinity;
}

/**
 * A token bucket per API key: `perSecond` tokens per second with a burst of `perSecond`, so a
 * client that respects `retry-after` settles at exactly the documented rate.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private perSecond: number = DEFAULT_RATE_LIMIT,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  /** The current limit in requests per second (0 = unlimited). */
  get limit(): number {
    return isUnlimited(this.perSecond) ? 0 : this.perSecond;
  }

  /** Changes the limit; buckets restart full so the new rate applies cleanly. */
  setLimit(perSecond: number): void {
    this.perSecond = perSecond;
    this.buckets.clear();
  }

  /** Spends one token for `apiKey` if there is one; null when there is no limit. */
  take(apiKey: string): RateDecision | null {
    return this.decide(apiKey, true);
  }

  /** The current state for `apiKey` without spending anything (for replayed responses). */
  peek(apiKey: string): RateDecision | null {
    return this.decide(apiKey, false);
  }

  /** Forgets every bucket. */
  clear(): void {
    this.buckets.clear();
  }

  private decide(apiKey: string, spend: boolean): RateDecision | null {
    if (isUnlimited(this.perSecond)) return null;
    const rate = this.perSecond;
    const capacity = Math.max(1, rate);
    const now = this.now();
    let bucket = this.buckets.get(apiKey);
    if (!bucket) {
      bucket = { tokens: capacity, updatedAt: now };
      this.buckets.set(apiKey, bucket);
    }
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
    bucket.updatedAt = now;
    const allowed = bucket.tokens >= 1;
    if (allowed && spend) bucket.tokens -= 1;
    return {
      allowed,
      limit: rate,
      remaining: Math.floor(bucket.tokens),
      resetSeconds: Math.ceil((capacity - bucket.tokens) / rate),
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)),
    };
  }
}

/** The headers Resend puts on API responses, lower-case as they arrive over HTTP/2. */
export function rateLimitHeaders(decision: RateDecision | null): Record<string, string> {
  if (!decision) return {};
  const headers: Record<string, string> = {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(decision.resetSeconds),
  };
  if (!decision.allowed) headers["retry-after"] = String(decision.retryAfterSeconds);
  return headers;
}
