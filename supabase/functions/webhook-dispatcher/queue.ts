import type { Sql } from "../_shared/db.ts";
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

/** The delivery queue's database operations, one SQL function each. */
export function deliveryQueue(sql: Sql) {
  return {
    claim: (worker: string, limit: number, leaseSeconds: number, cooldownSeconds: number) =>
      sql<ClaimedDelivery[]>`
        select * from public.claim_webhook_deliveries(${worker}, ${limit}, ${leaseSeconds}, ${cooldownSeconds})`,
    complete: async (deliveryId: string, record: AttemptRecord, circuitThreshold: number) => {
      const [row] = await sql<{ status: string }[]>`
        select public.complete_webhook_attempt(
          ${deliveryId}, ${record.outcome}, ${record.statusCode}, ${record.startedAt}, ${record.durationMs},
          ${record.responseBody}, ${record.error}, ${record.retryAfterSeconds ?? null}::integer, ${circuitThreshold}
        ) as status`;
      return row.status;
    },
  };
}

/** The queue operations bound to a client. */
export type DeliveryQueue = ReturnType<typeof deliveryQueue>;
