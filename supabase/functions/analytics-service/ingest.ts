import type { Sql } from "../_shared/db.ts";
import { type AnalyticsEventRow, ingestEvents, type RequestFacts, utmColumns } from "../_shared/tracking/event-row.ts";
import { referrerHost } from "../_shared/tracking/fields.ts";
import { analyticsEventSchema, type IngestResponse, type RejectedEvent, type ValidAnalyticsEvent } from "./schema.ts";

/** How far an event's own timestamp may be from its arrival; beyond, it is clamped. */
export const MAX_SKEW_MS = 24 * 60 * 60 * 1000;
const MAX_DETAILS_PER_EVENT = 5;

/** The event's time, clamped to ±24 h of `receivedAt` so a wrong clock cannot rewrite old buckets. */
export function clampTimestamp(timestamp: string | number | undefined, receivedAt: number): number {
  if (timestamp === undefined) return receivedAt;
  const at = typeof timestamp === "number" ? timestamp : Date.parse(timestamp);
  return Math.min(receivedAt + MAX_SKEW_MS, Math.max(receivedAt - MAX_SKEW_MS, at));
}

/** The stored row of a validated event. */
export function toRow(event: ValidAnalyticsEvent, sessionId: string, facts: RequestFacts, receivedAt: number) {
  const page = event.url;
  const row: AnalyticsEventRow = {
    client_event_id: event.id.toLowerCase(),
    event_name: event.name.name,
    custom: event.name.custom,
    occurred_at: new Date(clampTimestamp(event.timestamp, receivedAt)).toISOString(),
    session_id: sessionId,
    page_url: page?.url ?? null,
    referrer_host: referrerHost(event.referrer),
    content_type: event.content_type ?? null,
    content_id: event.content_id ?? null,
    platform: null,
    ...utmColumns(page?.utm ?? {}, event.utm),
    ...facts,
    properties: event.properties ?? {},
  };
  return row;
}

function idOf(candidate: unknown): string | undefined {
  const id = (candidate as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id.slice(0, 64) : undefined;
}

/**
 * Validates each event on its own, stores the valid ones in one statement and reports every
 * event's fate. Duplicates (by client id, within the batch or with earlier batches) are dropped.
 */
export async function ingestBatch(
  sql: Sql,
  batch: { session_id?: string; events: unknown[] },
  facts: RequestFacts,
  receivedAt = Date.now(),
): Promise<IngestResponse> {
  const rows = new Map<string, AnalyticsEventRow>();
  const errors: RejectedEvent[] = [];
  let repeatedInBatch = 0;
  batch.events.forEach((candidate, index) => {
    const result = analyticsEventSchema.safeParse(candidate);
    const sessionId = result.success ? result.data.session_id ?? batch.session_id : undefined;
    if (!result.success || sessionId === undefined) {
      const issues = result.success
        ? [{ path: "session_id", message: "Send session_id on the event or the batch" }]
        : result.error.issues.map((issue) => ({ path: issue.path.join("."), message: issue.message }));
      errors.push({ index, id: idOf(candidate), details: issues.slice(0, MAX_DETAILS_PER_EVENT) });
      return;
    }
    const row = toRow(result.data, sessionId, facts, receivedAt);
    if (rows.has(row.client_event_id)) repeatedInBatch++;
    else rows.set(row.client_event_id, row);
  });
  const inserted = await ingestEvents(sql, [...rows.values()]);
  return {
    accepted: inserted,
    duplicates: rows.size - inserted + repeatedInBatch,
    rejected: errors.length,
    errors,
  };
}
