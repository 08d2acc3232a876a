import type { Sql } from "../db.ts";
import type { RequestContext } from "../http/pipeline.ts";
import type { BrowserCaller } from "../http/browser-auth.ts";
import type { Utm } from "../url/canonical.ts";
import { jsonb } from "../sql-json.ts";
import { parseUserAgent } from "../user-agent.ts";

/** One `analytics_events` row as `ingest_analytics_events` takes it. */
export interface AnalyticsEventRow {
  client_event_id: string;
  event_name: string;
  custom: boolean;
  occurred_at: string;
  session_id: string;
  user_id: string | null;
  page_url: string | null;
  referrer_host: string | null;
  content_type: string | null;
  content_id: string | null;
  platform: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  utm_term: string | null;
  utm_content: string | null;
  device: string;
  browser: string | null;
  os: string | null;
  ip_hash: string;
  properties: Record<string, unknown>;
}

/** What every event of one request shares: who sent it, from where, with which browser. */
export interface RequestFacts {
  user_id: string | null;
  ip_hash: string;
  device: string;
  browser: string | null;
  os: string | null;
}

/**
 * The facts of a request. `ctx.clientIp` is already the salted hash (the tracking functions
 * wire `anonymizeIp`), and the user agent is parsed once for the whole batch.
 */
export function requestFacts(ctx: RequestContext, caller: BrowserCaller): RequestFacts {
  const agent = parseUserAgent(ctx.req.headers.get("user-agent"));
  return { user_id: caller.userId, ip_hash: ctx.clientIp, device: agent.device, browser: agent.browser, os: agent.os };
}

/** The utm_* columns: explicit values win over the ones found in the URL. */
export function utmColumns(fromUrl: Utm, explicit: Utm = {}) {
  const pick = (key: keyof Utm) => explicit[key] || fromUrl[key] || null;
  return {
    utm_source: pick("source"),
    utm_medium: pick("medium"),
    utm_campaign: pick("campaign"),
    utm_term: pick("term"),
    utm_content: pick("content"),
  };
}

/**
 * One event of a batch as {@link ingestEvents} sends it: only what differs between the events
 * of a request. A column left out (undefined, which JSON.stringify drops) is null, `custom`
 * false, `properties` empty, and the session the batch's.
 */
export type BatchEventColumns =
  & Pick<AnalyticsEventRow, "client_event_id" | "event_name" | "occurred_at">
  & Partial<Omit<AnalyticsEventRow, keyof RequestFacts | "client_event_id" | "event_name" | "occurred_at">>;

/**
 * Stores a batch in one statement; returns how many were new (the rest were duplicates by id).
 * What the events share (the request's facts, the batch's session) travels once, and null
 * columns not at all: the JSON Postgres parses is half the size of full rows.
 */
export async function ingestEvents(
  sql: Sql,
  shared: RequestFacts & { session_id?: string },
  events: BatchEventColumns[],
): Promise<number> {
  if (events.length === 0) return 0;
  const [row] = await sql<{ inserted: number }[]>`
    select public.ingest_analytics_events(${jsonb(sql, events)}, ${jsonb(sql, shared)}) as inserted`;
  return row.inserted;
}
