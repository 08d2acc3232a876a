import type { Sql } from "../_shared/db.ts";
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
 * (`apply_stripe_event`). The raw body is stored as sent, so a replay sees exactly what
 * Stripe signed. JSON goes in as `::text::jsonb`: postgres.js would otherwise JSON-encode the
 * already-encoded string a second time for a jsonb parameter.
 */
export async function recordStripeEvent(
  sql: Sql,
  event: StripeEvent,
  rawBody: string,
  effect: Effect,
  requestId: string,
): Promise<RecordResult> {
  const [row] = await sql<RecordResult[]>`
    select * from public.apply_stripe_event(
      ${event.id}, ${event.type}, ${event.created}, ${event.livemode}, ${event.api_version ?? null},
      ${rawBody}::text::jsonb, ${JSON.stringify(effect)}::text::jsonb, ${requestId}
    )`;
  return row;
}
