import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { typedJsonb } from "../_shared/sql-json.ts";

/** A claimed delivery with everything needed to send it. */
export interface ClaimedDelivery {
  delivery_id: string;
  attempt: number;
  event_id: string;
  event_type: string;
  payload: string;
  endpoint_id: string;
  url: string;
  secret: string;
  previous_secret: string | null;
  legacy_signature: boolean;
}

/** What one attempt found; `complete_webhook_deliveries` decides from it what follows. */
export interface AttemptRecord {
  /** The partner's HTTP status; null when no answer came (timeout, network, a name that does not resolve). */
  statusCode: number | null;
  /** The SSRF guard refused the address: nothing was sent, and nothing ever will be. */
  refused?: boolean;
  startedAt: Date;
  durationMs: number;
  responseBody: string;
  error: string | null;
  retryAfterSeconds?: number | null;
}

/** One element of `complete_webhook_deliveries(p_attempts)`: the JSON the queue hands to SQL. */
export const attemptSchema = z.strictObject({
  delivery_id: z.string(),
  status_code: z.number().int().min(100).max(599).nullable(),
  refused: z.boolean(),
  started_at: z.iso.datetime(),
  duration_ms: z.number().int().min(0),
  response_body: z.string(),
  error: z.string().nullable(),
  retry_after_seconds: z.number().int().min(0).nullable(),
  // null: the delivery policy's threshold.
  circuit_threshold: z.number().int().min(1).nullable(),
});

/** One attempt as `complete_webhook_deliveries` reads it. */
export type AttemptJson = z.infer<typeof attemptSchema>;

const attemptsSchema = z.array(attemptSchema);

/** What the dispatcher itself needs from `webhook_delivery_policy()`; SQL applies the rest. */
export interface DispatchPolicy {
  /** How much of an answer is kept: the dispatcher reads this many bytes of it and no more. */
  response_body_limit: number;
}

interface Waiting {
  attempt: AttemptJson;
  resolve(status: string): void;
  reject(error: unknown): void;
}

/**
 * The delivery queue's database operations, one SQL function each. Completions are written in
 * batches: the first waits for nothing, and the ones that finish while a batch is being written
 * go together in the next, so under load one transaction (and one WAL flush) records many
 * deliveries and an idle dispatcher adds no delay. Each caller still gets its own delivery's
 * next status.
 */
export function deliveryQueue(sql: Sql) {
  let waiting: Waiting[] = [];
  let writing = false;

  const write = async () => {
    writing = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const attempts = typedJsonb(sql, attemptsSchema, batch.map((item) => item.attempt));
        const rows = await sql<{ delivery_id: string; status: string }[]>`
          select * from public.complete_webhook_deliveries(${attempts})`;
        const statuses = new Map(rows.map((row) => [row.delivery_id, row.status]));
        for (const item of batch) item.resolve(statuses.get(item.attempt.delivery_id) ?? "MISSING");
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    writing = false;
  };

  return {
    /** The policy's values the dispatcher applies itself; read once per dispatch run. */
    policy: async () =>
      (await sql<DispatchPolicy[]>`select response_body_limit from public.webhook_delivery_policy()`)[0],
    claim: (worker: string, limit: number, leaseSeconds: number, cooldownSeconds: number) =>
      sql<ClaimedDelivery[]>`
        select * from public.claim_webhook_deliveries(${worker}, ${limit}, ${leaseSeconds}, ${cooldownSeconds})`,
    /**
     * Hands claimed deliveries back unsent: unleased, their attempt uncounted, their rate-limit
     * tokens returned (`release_webhook_deliveries`). Resolves with how many were still this
     * worker's to release.
     */
    release: async (worker: string, deliveryIds: string[]) =>
      (await sql<{ released: number }[]>`
        select public.release_webhook_deliveries(${worker}, ${deliveryIds}::uuid[]) as released`)[0].released,
    /**
     * Records an attempt; resolves with the delivery's status afterwards (PENDING when retried).
     * Without `circuitThreshold`, the delivery policy's applies.
     */
    complete: (deliveryId: string, record: AttemptRecord, circuitThreshold?: number) =>
      new Promise<string>((resolve, reject) => {
        waiting.push({
          attempt: {
            delivery_id: deliveryId,
            status_code: record.statusCode,
            refused: record.refused ?? false,
            started_at: record.startedAt.toISOString(),
            duration_ms: record.durationMs,
            response_body: record.responseBody,
            error: record.error,
            retry_after_seconds: record.retryAfterSeconds ?? null,
            circuit_threshold: circuitThreshold ?? null,
          },
          resolve,
          reject,
        });
        if (!writing) void write();
      }),
  };
}

/** The queue operations bound to a client. */
export type DeliveryQueue = ReturnType<typeof deliveryQueue>;
