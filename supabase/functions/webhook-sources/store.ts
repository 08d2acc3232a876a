import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { type Cursor, CURSOR_AT_FORMAT, type Page, pageOf } from "../_shared/http/cursor.ts";
import { rotateSecret } from "../_shared/secret-rotation.ts";
import type { ListEventsQuery } from "./schema.ts";

/** A source as the API shows it: every column but the secrets. */
export type SourceView = Record<string, unknown> & { id: string; verifier: string };

/** Columns a source is shown with. `secret` and `previous_secret` are deliberately absent. */
const SOURCE_COLUMNS = [
  "id",
  "tenant_id",
  "name",
  "verifier",
  "verifier_options",
  "event_id",
  "event_type",
  "filter",
  "handler",
  "forward",
  "mode",
  "batch_size",
  "max_wait_seconds",
  "tolerance_seconds",
  "active",
  "previous_secret_expires_at",
  "created_at",
  "updated_at",
];

type Paged = { id: string; cursor_at: string } & Record<string, unknown>;

/** Counts of a source's events (see GET /webhook-sources/:id/stats). */
export interface SourceStats {
  total: number;
  today: number;
  by_status: Record<string, number>;
  by_type: { type: string; count: number }[];
}

/**
 * The SQL of the sources API. Every query that touches an existing row carries the caller's
 * scope, so another tenant's source is indistinguishable from a missing one (null).
 */
export function sourceStore(sql: Sql) {
  const scope = (caller: AuthorizedCaller) =>
    caller.kind === "platform" ? sql`true` : sql`s.tenant_id = ${caller.tenantId}`;
  const columns = sql(SOURCE_COLUMNS);
  const get = async (caller: AuthorizedCaller, id: string): Promise<SourceView | null> => {
    const [row] = await sql`select ${columns} from public.webhook_sources s where s.id = ${id} and ${scope(caller)}`;
    return (row as SourceView | undefined) ?? null;
  };

  return {
    /** Inserts a source; returns it with its secret, which only creation and rotation show. */
    async create(values: Record<string, unknown>): Promise<SourceView & { secret: string | null }> {
      const [row] = await sql`insert into public.webhook_sources ${sql(values)} returning ${columns}, secret`;
      return row as SourceView & { secret: string | null };
    },

    /** The caller's sources, newest first; a platform caller may narrow to one tenant. */
    async list(
      caller: AuthorizedCaller,
      query: { limit: number; cursor?: Cursor; tenantId?: string },
    ): Promise<Page<SourceView>> {
      const rows = await sql<(SourceView & { cursor_at: string })[]>`
        select ${columns}, to_char(s.created_at at time zone 'UTC', ${CURSOR_AT_FORMAT}) as cursor_at
        from public.webhook_sources s
        where ${scope(caller)} ${query.tenantId ? sql`and s.tenant_id = ${query.tenantId}` : sql``}
          ${
        query.cursor
          ? sql`and (s.created_at, s.id) < (${query.cursor.at}::timestamptz, ${query.cursor.id}::uuid)`
          : sql``
      }
        order by s.created_at desc, s.id desc
        limit ${query.limit + 1}`;
      return pageOf(rows, query.limit);
    },

    /** One source, or null when it does not exist for this caller. */
    get,

    /** The current secret, for signing a test sample; null when there is no such source. */
    async secretOf(caller: AuthorizedCaller, id: string): Promise<{ secret: string | null } | null> {
      const [row] = await sql<{ secret: string | null }[]>`
        select s.secret from public.webhook_sources s where s.id = ${id} and ${scope(caller)}`;
      return row ?? null;
    },

    /** Applies `changes`. */
    async update(caller: AuthorizedCaller, id: string, changes: Record<string, unknown>): Promise<SourceView | null> {
      const [row] = await sql`
        update public.webhook_sources s set ${sql(changes)}, updated_at = now()
        where s.id = ${id} and ${scope(caller)}
        returning ${columns}`;
      return (row as SourceView | undefined) ?? null;
    },

    /** Deletes a source; its events stay in webhook_events. False when there was none. */
    async remove(caller: AuthorizedCaller, id: string): Promise<boolean> {
      const rows = await sql`delete from public.webhook_sources s where s.id = ${id} and ${
        scope(caller)
      } returning s.id`;
      return rows.length > 0;
    },

    /** Installs a new secret; the current one stays accepted for 24 hours (see rotateSecret). */
    rotateSecret: (caller: AuthorizedCaller, id: string, secret: string, expirePrevious: boolean) =>
      rotateSecret<SourceView>(sql, "webhook_sources", SOURCE_COLUMNS, caller, id, secret, expirePrevious),

    /** Why `handler` cannot be a source's handler, or null: it must exist as (jsonb, jsonb) returning text. */
    async handlerProblem(handler: string): Promise<string | null> {
      const [row] = await sql<{ returns: string | null }[]>`
        select p.prorettype::regtype::text as returns
        from (select to_regprocedure(${handler} || '(jsonb,jsonb)') as fn) h
        left join pg_catalog.pg_proc p on p.oid = h.fn`;
      if (!row?.returns) return `must name a function ${handler}(jsonb, jsonb), and none exists`;
      return row.returns === "text" ? null : `must return text, and ${handler}(jsonb, jsonb) returns ${row.returns}`;
    },

    /** The source's events, newest first, filtered; null when there is no such source. */
    async events(caller: AuthorizedCaller, id: string, query: ListEventsQuery): Promise<Page<unknown> | null> {
      if (!(await get(caller, id))) return null;
      const rows = await sql<Paged[]>`
        select e.id::text as id, e.event_id, e.event_type, e.status, e.outcome, e.error, e.attempts,
               e.received_at, e.processed_at, e.next_attempt_at, e.request_id
               ${query.include_payload ? sql`, e.payload` : sql``},
               to_char(e.received_at at time zone 'UTC', ${CURSOR_AT_FORMAT}) as cursor_at
        from public.webhook_events e
        where e.source_id = ${id}
          ${query.status ? sql`and e.status = ${query.status}` : sql``}
          ${query.type ? sql`and e.event_type = ${query.type}` : sql``}
          ${query.from ? sql`and e.received_at >= ${query.from}::timestamptz` : sql``}
          ${query.to ? sql`and e.received_at < ${query.to}::timestamptz` : sql``}
          ${
        query.cursor
          ? sql`and (e.received_at, e.id) < (${query.cursor.at}::timestamptz, ${query.cursor.id}::bigint)`
          : sql``
      }
        order by e.received_at desc, e.id desc
        limit ${query.limit + 1}`;
      return pageOf(rows, query.limit);
    },

    /** Counts of the source's events; null when there is no such source. */
    async stats(caller: AuthorizedCaller, id: string): Promise<SourceStats | null> {
      if (!(await get(caller, id))) return null;
      const [[totals], byType] = await Promise.all([
        sql<{ total: number; today: number; by_status: Record<string, number> }[]>`
          select coalesce(sum(n), 0)::int as total,
                 coalesce(sum(today), 0)::int as today,
                 coalesce(jsonb_object_agg(status, n) filter (where status is not null), '{}') as by_status
          from (
            select e.status, count(*) as n,
                   count(*) filter (where e.received_at >= date_trunc('day', now() at time zone 'UTC') at time zone 'UTC') as today
            from public.webhook_events e where e.source_id = ${id} group by e.status
          ) counts`,
        sql<{ type: string; count: number }[]>`
          select e.event_type as type, count(*)::int as count
          from public.webhook_events e where e.source_id = ${id}
          group by e.event_type order by count(*) desc, e.event_type limit 50`,
      ]);
      return { ...totals, by_type: byType };
    },
  };
}

/** The SQL of the sources API; see {@link sourceStore}. */
export type SourceStore = ReturnType<typeof sourceStore>;
