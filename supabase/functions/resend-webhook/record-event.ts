import { isTransientDbError, type Sql } from "../_shared/db.ts";
import type { ResendEvent } from "./event-schema.ts";
import type { ResendEffect } from "./plan-event.ts";

/** What recording an event did: its stored status, the effect's outcome, and whether it was a redelivery. */
export interface RecordResult {
  status: "processed" | "ignored" | "unmatched" | "failed";
  outcome: string | null;
  duplicate: boolean;
  error: string | null;
}

/**
 * Records the event under its svix-id and applies it in one transaction and one round trip
 * (`apply_resend_event`). If applying raises, that transaction rolls back whole and the
 * failure is recorded in a second one, so the event is kept, marked failed with the reason,
 * and applied by Resend's redelivery. A transient database error is rethrown (503): then
 * nothing was stored and Resend's retry starts from scratch.
 *
 * JSON goes in as `::text::jsonb`: postgres.js would otherwise JSON-encode the already
 * encoded string a second time for a jsonb parameter. The raw body is stored as sent.
 */
export async function recordResendEvent(
  sql: Sql,
  svixId: string,
  event: ResendEvent,
  rawBody: string,
  effect: ResendEffect,
  requestId: string,
): Promise<RecordResult> {
  try {
    const [row] = await sql<Omit<RecordResult, "error">[]>`
      select * from public.apply_resend_event(
        ${svixId}, ${event.type}, ${event.created_at}::timestamptz, ${rawBody}::text::jsonb,
        ${effect.messageId}, ${effect.bounceType}, ${effect.recipients}::text[], ${requestId}
      )`;
    return { ...row, error: null };
  } catch (cause) {
    if (isTransientDbError(cause)) throw cause;
    const error = cause instanceof Error ? cause.message : String(cause);
    await sql`
      select public.record_resend_event_failure(
        ${svixId}, ${event.type}, ${event.created_at}::timestamptz, ${rawBody}::text::jsonb, ${error}, ${requestId}
      )`;
    return { status: "failed", outcome: null, duplicate: false, error };
  }
}
