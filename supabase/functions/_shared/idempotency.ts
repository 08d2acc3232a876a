import { sha256Hex } from "./bytes.ts";
import type { Sql } from "./db.ts";
import { jsonb } from "./sql-json.ts";

/** What a claim on an idempotency key found. */
export type ClaimOutcome =
  | { outcome: "claimed" }
  | { outcome: "replay"; status: number; body: unknown }
  | { outcome: "in_flight" }
  | { outcome: "mismatch" };

/** Idempotency keys in `idempotency_keys`, claimed atomically by the database. */
export interface IdempotencyStore {
  claim(scope: string, key: string, requestHash: string): Promise<ClaimOutcome>;
  complete(scope: string, key: string, status: number, body: unknown): Promise<void>;
  release(scope: string, key: string): Promise<void>;
}

/** Options of {@link createIdempotencyStore}. */
export interface IdempotencyOptions {
  /** How long a claim blocks others before it counts as abandoned by a crashed caller. */
  lockSeconds?: number;
  /** How long a completed response is replayed; Stripe and Resend both keep keys 24 h. */
  ttlSeconds?: number;
}

/** An {@link IdempotencyStore} over the SQL functions of the foundation migration. */
export function createIdempotencyStore(sql: Sql, options: IdempotencyOptions = {}): IdempotencyStore {
  const lockSeconds = options.lockSeconds ?? 60;
  const ttlSeconds = options.ttlSeconds ?? 24 * 60 * 60;
  return {
    async claim(scope, key, requestHash) {
      const [row] = await sql<{ outcome: string; response_status: number | null; response_body: unknown }[]>`
        select * from public.idempotency_claim(${scope}, ${key}, ${requestHash}, ${lockSeconds}, ${ttlSeconds})`;
      if (row.outcome === "replay") {
        return { outcome: "replay", status: row.response_status ?? 200, body: row.response_body };
      }
      return { outcome: row.outcome as "claimed" | "in_flight" | "mismatch" };
    },
    async complete(scope, key, status, body) {
      await sql`select public.idempotency_complete(${scope}, ${key}, ${status}, ${jsonb(sql, body)})`;
    },
    async release(scope, key) {
      await sql`select public.idempotency_release(${scope}, ${key})`;
    },
  };
}

/** SHA-256 (hex) of a request's method, path with query, and body: what "the same request" means. */
export async function requestHash(method: string, target: string, body: string): Promise<string> {
  return await sha256Hex(`${method}\n${target}\n${body}`);
}
