import type { Sql } from "../_shared/db.ts";
import { applyOrRecordFailure, type RecordResult } from "../_shared/inbound-event.ts";
import { jsonbFromText } from "../_shared/sql-json.ts";
import type { ResendEvent } from "./event-schema.ts";
import type { ResendEffect } from "./plan-event.ts";

/**
 * Records the event under its svix-id and applies it in one transaction and one round trip
 * (`apply_resend_event`), or records why applying it failed (see applyOrRecordFailure).
 * The raw body is stored as sent (see jsonbFromText).
 */
export function recordResendEvent(
  sql: Sql,
  svixId: string,
  event: ResendEvent,
  rawBody: string,
  effect: ResendEffect,
  requestId: string,
): Promise<RecordResult> {
  return applyOrRecordFailure(
    { provider: "resend", id: svixId, type: event.type },
    async () => {
      const [row] = await sql<Omit<RecordResult, "error">[]>`
        select status, outcome, duplicate from public.apply_resend_event(
          ${svixId}, ${event.type}, ${event.created_at}::timestamptz, ${jsonbFromText(sql, rawBody)},
          ${effect.messageId}, ${effect.bounceType}, ${effect.recipients}::text[], ${requestId}
        )`;
      return row;
    },
    (error) =>
      sql`
        select public.record_webhook_event_failure(
          'resend', ${svixId}, ${event.type}, ${event.created_at}::timestamptz, ${jsonbFromText(sql, rawBody)},
          ${error}, ${requestId}
        )`,
  );
}
