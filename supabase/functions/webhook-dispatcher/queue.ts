import type { Sql } from "../_shared/db.ts";
import { jsonbText } from "../_shared/jsonb-text.ts";
import type { AttemptOutcome } from "./classify.ts";

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

/** One attempt's record, for `complete_webhook_attempt`. */
export interface AttemptRecord {
  outcome: AttemptOutcome;
  statusCode: number | null;
  startedAt: Date;
  durationMs: number;
  responseBody: string;
  error: string | null;
  retryAfterSeconds?: number;
}

interface Waiting {
  attempt: Record<string, unknown>;
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
        // A partner's answer may hold a NUL, which neither text nor jsonb can store.
        const attempts = jsonbText(JSON.stringify(batch.map((item) => item.attempt)));
        const rows = await sql<{ delivery_id: string; status: string }[]>`
          select * from public.complete_webhook_attempts(${attempts}::text::jsonb)`;
        const statuses = new Map(rows.map((row) => [row.delivery_id, row.status]));
        for (const item of batch) item.resolve(statuses.get(item.attempt.delivery_id as string) ?? "MISSING");
      } catch (error) {
        for (const item of batch) item.reject(error);
      }
    }
    writing = false;
  };

  return {
    claim: (worker: string, limit: number, leaseSeconds: number, cooldownSeconds: number) =>
      sql<ClaimedDelivery[]>`
        select * from public.claim_webhook_deliveries(${worker}, ${limit}, ${leaseSeconds}, ${cooldownSeconds})`,
    /** Records an attempt; resolves with the delivery's status afterwards (PENDING when retried). */
    complete: (deliveryId: string, record: AttemptRecord, circuitThreshold: number) =>
      new Promise<string>((resolve, reject) => {
        waiting.push({
          attempt: {
            delivery_id: deliveryId,
            outcome: record.outcome,
            status_code: record.statusCode,
            started_at: record.startedAt.toISOString(),
            duration_ms: record.durationMs,
            response_body: record.responseBody,
            error: record.error,
            retry_after_seconds: record.retryAfterSeconds ?? null,
            circuit_threshold: circuitThreshold,
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
