import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { type Cursor, CURSOR_AT_FORMAT, isBigintId, type Page, pageOf } from "../_shared/http/cursor.ts";
import { type EventFilter, eventWhere } from "./filters.ts";

/** An inbound event as the events list shows it (no payload). */
export type EventRow = Record<string, unknown> & { id: string; provider: string };

/** One ops_action audit of an event: who ran which action on it, and what it touched. */
export interface EventAudit {
  id: string;
  created_at: string;
  actor: string;
  action: string;
  dry_run: boolean;
  touched: number;
  params: unknown;
  request_id: string | null;
}

/** An inbound event with its payload, its processing history and its audits (newest first). */
export type EventDetail = EventRow & { payload: unknown; audits: EventAudit[] };

const LIST_COLUMNS = (sql: Sql) =>
  sql`e.id::text as id, e.provider, e.source_id, e.event_id, e.event_type, e.status, e.outcome, e.error,
      e.attempts, e.duplicates, e.received_at, e.processed_at, e.next_attempt_at`;

/** The SQL of the inbound events the dashboard lists and opens, scoped to the caller (see eventWhere). */
export function eventReads(sql: Sql) {
  return {
    /** Events newest first (received_at, then id), one page after `cursor`. */
    async list(
      caller: AuthorizedCaller,
      query: EventFilter & { limit: number; cursor?: Cursor },
    ): Promise<Page<EventRow>> {
      const rows = await sql<(EventRow & { cursor_at: string })[]>`
        select ${LIST_COLUMNS(sql)},
               to_char(e.received_at at time zone 'UTC', ${CURSOR_AT_FORMAT}) as cursor_at
        from public.webhook_events e
        where ${eventWhere(sql, caller, query)}
          ${
        query.cursor
          ? sql`and (e.received_at, e.id) < (${query.cursor.at}::timestamptz, ${query.cursor.id}::bigint)`
          : sql``
      }
        order by e.received_at desc, e.id desc
        limit ${query.limit + 1}`;
      return pageOf<EventRow>(rows, query.limit);
    },

    /** One event with its payload, history and audits; null when there is none for this caller. */
    async get(caller: AuthorizedCaller, id: string): Promise<EventDetail | null> {
      if (!isBigintId(id)) return null;
      const [row] = await sql<(EventRow & { payload: unknown })[]>`
        select ${LIST_COLUMNS(sql)}, e.last_duplicate_at, e.request_id, e.payload
        from public.webhook_events e
        where e.id = ${id}::bigint and ${eventWhere(sql, caller, {})}`;
      if (!row) return null;
      const audits = await sql<EventAudit[]>`
        select a.id::text as id, a.created_at, a.source as actor, a.details ->> 'action' as action,
               coalesce((a.details ->> 'dry_run')::boolean, false) as dry_run,
               coalesce((a.details ->> 'touched')::int, 0) as touched,
               a.details -> 'params' as params, a.request_id
        from public.security_events a
        where a.kind = 'ops_action'
          and (a.details -> 'params' ->> 'id' = ${id}
               or coalesce(a.details -> 'params' -> 'filter' -> 'ids', '[]') @> jsonb_build_array(${id}::text))
        order by a.created_at desc, a.id desc`;
      return { ...row, audits };
    },
  };
}
