import type { Sql } from "../_shared/db.ts";
import type { RecordResult } from "../_shared/inbound-event.ts";
import { recordInboundEvent } from "../inbound-webhook/record-event.ts";
import { resendEventSchema } from "../resend-webhook/event-schema.ts";
import { planResendEvent } from "../resend-webhook/plan-event.ts";
import { recordResendEvent } from "../resend-webhook/record-event.ts";
import { stripeEventSchema } from "../stripe-webhook/event-schema.ts";
import { planEffect } from "../stripe-webhook/plan-effect.ts";
import { recordStripeEvent } from "../stripe-webhook/record-event.ts";
import { planMirror } from "../_shared/stripe-mirror.ts";

/** A stored inbound event, as reprocessing reads it. */
export interface StoredEvent {
  id: string;
  provider: string;
  event_id: string;
  event_type: string;
  payload: unknown;
}

/** What reprocessing one event did; `invalid` when its stored payload no longer passes the live schema. */
export type Reprocessed = RecordResult | { status: "invalid"; outcome: null; duplicate: false; error: string };

/**
 * Runs a stored event through the very code a live request runs: for Stripe, the event
 * schema, planEffect and apply_stripe_event; for Resend, planResendEvent and
 * apply_resend_event; for a source, apply_inbound_event (its filter, handler and forward).
 * Nothing here decides what an event does, so a fix to a provider's effect fixes its
 * reprocessing too.
 *
 * The event is first marked failed, the state in which begin_webhook_event lets a delivery
 * apply it again (an unmatched one is otherwise a duplicate). A live redelivery arriving at
 * the same moment meets this one on the event's advisory lock, and only one applies.
 */
export async function reprocessEvent(
  sql: Sql,
  event: StoredEvent,
  requestId: string,
  mirrored: ReadonlySet<string>,
): Promise<Reprocessed> {
  await sql`
    update public.webhook_events set status = 'failed'
    where id = ${event.id} and status in ('failed', 'unmatched')`;
  const rawBody = JSON.stringify(event.payload);
  if (event.provider === "stripe") {
    const parsed = stripeEventSchema.safeParse(event.payload);
    if (!parsed.success) return invalid(parsed.error.message);
    return recordStripeEvent(
      sql,
      parsed.data,
      rawBody,
      planEffect(parsed.data),
      planMirror(parsed.data, mirrored),
      requestId,
    );
  }
  if (event.provider === "resend") {
    const parsed = resendEventSchema.safeParse(event.payload);
    if (!parsed.success) return invalid(parsed.error.message);
    return recordResendEvent(sql, event.event_id, parsed.data, rawBody, planResendEvent(parsed.data), requestId);
  }
  const sourceId = event.provider.slice("source:".length);
  return recordInboundEvent(sql, {
    sourceId,
    id: event.event_id,
    type: event.event_type,
    payload: { json: rawBody },
  }, requestId);
}

const invalid = (error: string): Reprocessed => ({ status: "invalid", outcome: null, duplicate: false, error });
