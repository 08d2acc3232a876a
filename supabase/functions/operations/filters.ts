import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { isBigintId } from "../_shared/http/cursor.ts";

/** An inbound event's id (webhook_events.id, a bigint) as text. */
export const eventId = z.string().refine(isBigintId, "must be an event's numeric id");

/** Inbound event statuses. */
export const EVENT_STATUS = z.enum(["pending", "processed", "ignored", "unmatched", "failed"]);

/** The fields a bulk action's filter and the events list (GET /operations/events) share. */
export const eventFilterFields = {
  provider: z.string().regex(/^(stripe|resend|source:[0-9a-f-]{36})$/).optional(),
  source_id: z.guid().optional(),
  type: z.string().min(1).max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
};

/**
 * Which inbound events a bulk action touches: any combination of provider (`stripe`,
 * `resend`, `source:<id>`), source id, status, type, a received-at range and explicit ids.
 * An empty filter means every event, which the row limit then refuses without dry_run.
 */
export const eventFilter = z.strictObject({
  ...eventFilterFields,
  status: z.union([EVENT_STATUS, z.array(EVENT_STATUS).min(1).max(5)]).optional(),
  ids: z.array(eventId).min(1).max(1000).optional(),
});

/**
 * A validated event filter, plus what only the events list narrows by: a provider's exact
 * event id, and `q`, a case-insensitive substring of the payload's text. `q` is no index's
 * key: it scans the rows the other fields leave, so a dashboard sends it with a time range.
 */
export type EventFilter = z.infer<typeof eventFilter> & { event_id?: string; q?: string };

/**
 * The filter as SQL over `public.webhook_events e`, scoped to the caller: a tenant's admin
 * reaches only its own sources' events, never Stripe's, Resend's or another tenant's.
 */
export function eventWhere(sql: Sql, caller: AuthorizedCaller, filter: EventFilter, statuses?: string[]) {
  const status = filter.status === undefined
    ? statuses
    : [filter.status].flat().filter((s) => !statuses || statuses.includes(s));
  return sql`
    ${
    caller.kind === "tenant"
      ? sql`e.source_id in (select s.id from public.webhook_sources s where s.tenant_id = ${caller.tenantId})`
      : sql`true`
  }
    ${filter.provider ? sql`and e.provider = ${filter.provider}` : sql``}
    ${filter.source_id ? sql`and e.source_id = ${filter.source_id}` : sql``}
    ${status ? sql`and e.status = any(${status}::text[])` : sql``}
    ${filter.type ? sql`and e.event_type = ${filter.type}` : sql``}
    ${filter.from ? sql`and e.received_at >= ${filter.from}::timestamptz` : sql``}
    ${filter.to ? sql`and e.received_at < ${filter.to}::timestamptz` : sql``}
    ${filter.ids ? sql`and e.id = any(${filter.ids}::bigint[])` : sql``}
    ${filter.event_id ? sql`and e.event_id = ${filter.event_id}` : sql``}
    ${filter.q ? sql`and strpos(lower(e.payload::text), lower(${filter.q})) > 0` : sql``}`;
}
