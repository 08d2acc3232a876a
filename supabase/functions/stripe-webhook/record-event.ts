import { isTransientDbError, type Sql } from "../_shared/db.ts";
import type { StripeEvent } from "./event-schema.ts";
import type { Effect } from "./plan-effect.ts";

/** What recording an event did: its stored status, the effect's outcome, and whether it was a redelivery. */
export interface RecordResult {
  status: "processed" | "ignored" | "unmatched" | "failed";
  outcome: string | null;
  duplicate: boolean;
  error: string | null;
}

/**
 * Records the event and applies its effect in one transaction and one round trip
 * (`apply_stripe_event`). If the effect raises, that transaction rolls back whole and the
 * failure is recorded in a second one, so the event is kept, marked failed with the reason,
 * and applied by Stripe's redelivery. A transient database error is rethrown (503): then
 * nothing was stored and Stripe's retry starts from scratch.
 *
 * JSON goes in as `::text::jsonb`: postgres.js would otherwise JSON-encode the already
 * encoded string a second time for a jsonb parameter. The raw body is stored as sent.
 */
export async function recordStripeEvent(
  sql: Sql,
  event: StripeEvent,
  rawBody: string,
  effect: Effect,
  requestId: string,
): Promise<RecordResult> {
  try {
    const [row] = await sql<RecordResult[]>`
      select * from public.apply_stripe_event(
        ${event.id}, ${event.type}, ${event.created}, ${event.livemode}, ${event.api_version ?? null},
        ${rawBody}::text::jsonb, ${JSON.stringify(effect)}::text::jsonb, ${requestId}
      )`;
    return row;
  } catch (cause) {
    if (isTransientDbError(cause)) throw cause;
    const error = cause instanceof Error ? cause.message : String(cause);
    await sql`
      select public.record_stripe_event_failure(
        ${event.id}, ${event.type}, ${event.created}, ${event.livemode}, ${event.api_version ?? null},
        ${rawBody}::text::jsonb, ${error}, ${requestId}
      )`;
    return { status: "failed", outcome: null, duplicate: false, error };
  }
}
