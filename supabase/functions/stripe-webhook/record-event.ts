import type { Sql } from "../_shared/db.ts";
import { applyOrRecordFailure, type RecordResult } from "../_shared/inbound-event.ts";
import { jsonbFromText, typedJsonb } from "../_shared/sql-json.ts";
import type { StripeEvent } from "./event-schema.ts";
import { type Effect, effectSchema } from "./plan-effect.ts";
import { type MirrorPlan, mirrorSchema } from "../_shared/stripe-mirror.ts";

/**
 * Records the event and applies its effect and its mirror write in one transaction and one
 * round trip (`apply_stripe_event`), or records why the effect failed (see applyOrRecordFailure).
 * The raw body is stored as sent (see jsonbFromText); an effect that drifts from effectSchema
 * fails here, and the event is kept as failed with the reason.
 */
export function recordStripeEvent(
  sql: Sql,
  event: StripeEvent,
  rawBody: string,
  effect: Effect,
  mirror: MirrorPlan,
  requestId: string,
): Promise<RecordResult> {
  return applyOrRecordFailure(
    { provider: "stripe", id: event.id, type: event.type },
    async () => {
      const [row] = await sql<Omit<RecordResult, "error">[]>`
        select status, outcome, duplicate from public.apply_stripe_event(
          ${event.id}, ${event.type}, ${event.created}, ${event.livemode}, ${event.api_version ?? null},
          ${jsonbFromText(sql, rawBody)}, ${typedJsonb(sql, effectSchema, effect)},
          ${mirror === null ? null : typedJsonb(sql, mirrorSchema, mirror)}, ${requestId}
        )`;
      return row;
    },
    (error) =>
      sql`
        select public.record_webhook_event_failure(
          'stripe', ${event.id}, ${event.type}, to_timestamp(${event.created}), ${jsonbFromText(sql, rawBody)},
          ${error}, ${requestId}, ${event.api_version ?? null}, ${event.livemode}
        )`,
  );
}
