import { createHash } from "node:crypto";

/** Resend keeps idempotency keys for 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** Resend's documented maximum key length. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;

/** A finished response, kept so a retry can be answered byte for byte. */
export interface StoredResponse {
  status: number;
  body: string;
}

/** What the store knows about a key: nothing, a replayable response, or a conflict. */
export type IdempotencyLookup =
  | { kind: "new" }
  | { kind: "replay"; response: StoredResponse }
  | { kind: "mismatch" }
  | { kind: "in-flight" };

interface Entry {
  fingerprint: string;
  createdAt: number;
  response: StoredResponse | null;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** A digest of the parsed body, so the same payload with keys in another order still counts as "the same". */
export function fingerprintOf(body: unknown, extra = ""): string {
  return createHash("sha256").update(extra).update("\0").update(canonical(body)).digest("base64url");
}

/**
 * Idempotency keys scoped per API key + endpoint + key. A Map keeps insertion order, which is
 * also expiry order, so expired entries are swept from the front in amortised O(1) per call
 * instead of scanning everything.
 */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs = IDEMPOTENCY_TTL_MS, private readonly now: () => number = Date.now) {}

  /** The composite key; NUL cannot occur in HTTP header values, so the parts cannot collide. */
  static scope(apiKey: string, endpoint: string, key: string): string {
    return `${apiKey}\0${endpoint}\0${key}`;
  }

  /** What a request with this scope and body should get before doing any work. */
  lookup(scope: string, fingerprint: string): IdempotencyLookup {
    this.sweep();
    const entry = this.entries.get(scope);
    if (!entry) return { kind: "new" };
    if (!entry.response) return { kind: "in-flight" };
    if (entry.fingerprint !== fingerprint) return { kind: "mismatch" };
    return { kind: "replay", response: entry.response };
  }

  /** Marks the key as taken by a request that has not answered yet. */
  reserve(scope: string, fingerprint: string): void {
    this.entries.set(scope, { fingerprint, createdAt: this.now(), response: null });
  }

  /** Stores the successful response; failed requests call `release` instead, so they can be retried. */
  complete(scope: string, fingerprint: string, response: StoredResponse): void {
    const existing = this.entries.get(scope);
    if (existing) {
      existing.fingerprint = fingerprint;
      existing.response = response;
      return;
    }
    this.entries.set(scope, { fingerprint, createdAt: this.now(), response });
  }

  /** Forgets an in-flight reservation (the request failed or its client went away). */
  release(scope: string): void {
    if (this.entries.get(scope)?.response === null) this.entries.delete(scope);
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [scope, entry] of this.entries) {
      if (entry.createdAt > cutoff) return;
      this.entries.delete(scope);
    }
  }
}
