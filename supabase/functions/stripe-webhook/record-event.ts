import type { Sql } from "../_shared/db.ts";
import { applyOrRecordFailure, type RecordResult } from "../_shared/inbound-event.ts";
import { jsonbText } from "../_shared/jsonb-text.ts";
import type { StripeEvent } from "./event-schema.ts";
import type { Effect } from "./plan-effect.ts";

/**
 * Records the event and applies its effect in one transaction and one round trip
 * (`apply_stripe_event`), or records why the effect failed (see applyOrRecordFailure).
 * JSON goes in as `::text::jsonb`: postgres.js would otherwise JSON-encode the already
 * encoded string a second time for a jsonb parameter. The raw body is stored as sent, except
 * for NUL escapes, which jsonb cannot hold (see jsonbText).
 */
export function recordStripeEvent(
  sql: Sql,
  event: StripeEvent,
  rawBody: string,
  effect: Effect,
  requestId: string,
): Promise<RecordResult> {
  const payload = jsonbText(rawBody);
  return applyOrRecordFailure(
    async () => {
      const [row] = await sql<Omit<RecordResult, "error">[]>`
        select status, outcome, duplicate from public.apply_stripe_event(
          ${event.id}, ${event.type}, ${event.created}, ${event.livemode}, ${event.api_version ?? null},
          ${payload}::text::jsonb, ${jsonbText(JSON.stringify(effect))}::text::jsonb, ${requestId}
        )`;
      return row;
    },
    (error) =>
      sql`
        select public.record_webhook_event_failure(
          'stripe', ${event.id}, ${event.type}, to_timestamp(${event.created}), ${payload}::text::jsonb,
          ${error}, ${requestId}, ${event.api_version ?? null}, ${event.livemode}
        )`,
  );
}
