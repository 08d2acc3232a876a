import * as v from "valibot";
import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { type BatchEventColumns, ingestEvents, type RequestFacts, utmColumns } from "../_shared/tracking/event-row.ts";
import { referrerHost, sessionIdSchema } from "../_shared/tracking/fields.ts";
import { issueDetails } from "../_shared/tracking/issues.ts";
import { zodFromValibot } from "../_shared/tracking/zod-bridge.ts";
import {
  analyticsEventSchema,
  type IngestResponse,
  MAX_BATCH_EVENTS,
  type RejectedEvent,
  type ValidAnalyticsEvent,
} from "./schema.ts";

/**
 * An ingest request: events are validated one by one (by {@link ingestBatch}), so one bad event
 * does not sink the rest. Here rather than in schema.ts, which the browser client bundles: the
 * client builds the envelope itself and never parses it, so it does not carry this schema.
 */
export const ingestRequestSchema = z.strictObject({
  session_id: zodFromValibot(sessionIdSchema).optional(),
  events: z.array(z.unknown()).min(1).max(MAX_BATCH_EVENTS),
});

/** How far an event's own timestamp may be from its arrival; beyond, it is clamped. */
export const MAX_SKEW_MS = 24 * 60 * 60 * 1000;
const MAX_DETAILS_PER_EVENT = 5;

/** The event's time, clamped to ±24 h of `receivedAt` so a wrong clock cannot rewrite old buckets. */
export function clampTimestamp(timestamp: string | number | undefined, receivedAt: number): number {
  if (timestamp === undefined) return receivedAt;
  const at = typeof timestamp === "number" ? timestamp : Date.parse(timestamp);
  return Math.min(receivedAt + MAX_SKEW_MS, Math.max(receivedAt - MAX_SKEW_MS, at));
}

/**
 * The columns of a validated event that are its own (see {@link BatchEventColumns}): the
 * request's facts and the batch's session are sent once for the batch, null values not at all.
 */
export function toRow(event: ValidAnalyticsEvent, batchSessionId: string | undefined, receivedAt: number) {
  const page = event.url;
  const utm = utmColumns(page?.utm ?? {}, event.utm);
  const row: BatchEventColumns = {
    client_event_id: event.id.toLowerCase(),
    event_name: event.name.name,
    occurred_at: new Date(clampTimestamp(event.timestamp, receivedAt)).toISOString(),
  };
  if (event.name.custom) row.custom = true;
  if (event.session_id !== undefined && event.session_id !== batchSessionId) row.session_id = event.session_id;
  if (page) row.page_url = page.url;
  const referrer = referrerHost(event.referrer);
  if (referrer !== null) row.referrer_host = referrer;
  if (event.content_type !== undefined) row.content_type = event.content_type;
  if (event.content_id !== undefined) row.content_id = event.content_id;
  for (const key of Object.keys(utm) as (keyof typeof utm)[]) if (utm[key] !== null) row[key] = utm[key];
  if (event.properties !== undefined && Object.keys(event.properties).length > 0) row.properties = event.properties;
  return row;
}

/** Settings of {@link ingestBatch}. */
export interface IngestOptions {
  /** When set, the only custom event names accepted (standard names always are). */
  customEvents?: ReadonlySet<string>;
  /** The arrival time timestamps are clamped around. */
  receivedAt?: number;
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
  options: IngestOptions = {},
): Promise<IngestResponse> {
  const receivedAt = options.receivedAt ?? Date.now();
  const rows = new Map<string, BatchEventColumns>();
  const errors: RejectedEvent[] = [];
  let repeatedInBatch = 0;
  batch.events.forEach((candidate, index) => {
    const reject = (details: RejectedEvent["details"]) => {
      errors.push({ index, id: idOf(candidate), details: details.slice(0, MAX_DETAILS_PER_EVENT) });
    };
    const result = v.safeParse(analyticsEventSchema, candidate);
    if (!result.success) return reject(issueDetails(result.issues));
    const { output: event } = result;
    const sessionId = event.session_id ?? batch.session_id;
    if (sessionId === undefined) {
      return reject([{ path: "session_id", message: "Send session_id on the event or the batch" }]);
    }
    if (event.name.custom && options.customEvents && !options.customEvents.has(event.name.name)) {
      return reject([{ path: "name", message: `Custom event ${event.name.name} is not in ANALYTICS_CUSTOM_EVENTS` }]);
    }
    const row = toRow(event, batch.session_id, receivedAt);
    if (rows.has(row.client_event_id)) repeatedInBatch++;
    else rows.set(row.client_event_id, row);
  });
  const inserted = await ingestEvents(sql, { ...facts, session_id: batch.session_id }, [...rows.values()]);
  return {
    accepted: inserted,
    duplicates: rows.size - inserted + repeatedInBatch,
    rejected: errors.length,
    errors,
  };
}
