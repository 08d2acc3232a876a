import type { Sql } from "../_shared/db.ts";
import { applyOrRecordFailure, type RecordResult } from "../_shared/inbound-event.ts";
import { jsonb, jsonbFromText } from "../_shared/sql-json.ts";

/** One verified request of a source, ready to record. */
export interface InboundEvent {
  sourceId: string;
  id: string;
  type: string;
  /** The raw JSON body, stored as sent; or a form's parameters. */
  payload: { json: string } | { form: Record<string, string> };
}

/**
 * Records the event and applies the source's effect in one transaction and one round trip
 * (`apply_inbound_event`), or keeps it as failed with the reason (see applyOrRecordFailure),
 * so the provider's retry applies it.
 */
export function recordInboundEvent(sql: Sql, event: InboundEvent, requestId: string): Promise<RecordResult> {
  const payload = "json" in event.payload ? jsonbFromText(sql, event.payload.json) : jsonb(sql, event.payload.form);
  return applyOrRecordFailure(
    { provider: `source:${event.sourceId}`, id: event.id, type: event.type },
    async () => {
      const [row] = await sql<Omit<RecordResult, "error">[]>`
        select status, outcome, duplicate
        from public.apply_inbound_event(${event.sourceId}, ${event.id}, ${event.type}, ${payload}, ${requestId})`;
      return row;
    },
    (error) =>
      sql`
        select public.record_webhook_event_failure(
          ${"source:" + event.sourceId}, ${event.id}, ${event.type}, null, ${payload}, ${error}, ${requestId}
        )`,
  );
}
