import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { rotateSecret } from "../_shared/secret-rotation.ts";
import { type Cursor, CURSOR_AT_FORMAT, type Page, pageOf } from "../_shared/http/cursor.ts";

/** An endpoint as the API shows it: every column but the secrets. */
export type EndpointView = Record<string, unknown> & { id: string };

/** Columns an endpoint is shown with. `secret` and `previous_secret` are deliberately absent. */
const ENDPOINT_COLUMNS = [
  "id",
  "tenant_id",
  "url",
  "description",
  "event_types",
  "active",
  "legacy_signature",
  "rate_limit_per_minute",
  "rate_limit_burst",
  "max_in_flight",
  "circuit_state",
  "consecutive_failures",
  "failing_since",
  "last_success_at",
  "disabled_at",
  "disabled_reason",
  "previous_secret_expires_at",
  "created_at",
  "updated_at",
];

type Paged = { id: string; cursor_at: string } & Record<string, unknown>;

/**
 * The SQL of the management API. Every query that touches an existing row carries the
 * caller's scope, so another tenant's row is indistinguishable from a missing one (null).
 * Test events, replays and recovery go through the migration's SQL functions.
 */
export function endpointStore(sql: Sql) {
  const scope = (caller: AuthorizedCaller) =>
    caller.kind === "platform" ? sql`true` : sql`e.tenant_id = ${caller.tenantId}`;
  // Unqualified: `insert ... as e` would turn postgres.js's insert helper into a select list.
  const columns = sql(ENDPOINT_COLUMNS);
  // Keyset pagination: the rows after the cursor in (created_at desc, id desc) order.
  const after = (table: "e" | "d", cursor?: Cursor) => {
    if (!cursor) return sql``;
    const [createdAt, id] = [sql(`${table}.created_at`), sql(`${table}.id`)];
    return sql`and (${createdAt}, ${id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`;
  };
  const get = async (caller: AuthorizedCaller, id: string): Promise<EndpointView | null> => {
    const [row] = await sql`select ${columns} from public.webhook_endpoints e where e.id = ${id} and ${scope(caller)}`;
    return (row as EndpointView | undefined) ?? null;
  };

  return {
    /** Inserts an endpoint; returns it with its secret, which only creation and rotation show. */
    async create(values: Record<string, unknown>): Promise<EndpointView & { secret: string }> {
      const [row] = await sql`insert into public.webhook_endpoints ${sql(values)} returning ${columns}, secret`;
      return row as EndpointView & { secret: string };
    },

    /** The caller's endpoints, newest first; a platform caller may narrow to one tenant. */
    async list(
      caller: AuthorizedCaller,
      query: { limit: number; cursor?: Cursor; tenantId?: string },
    ): Promise<Page<EndpointView>> {
      const rows = await sql<Paged[]>`
        select ${columns}, to_char(e.created_at at time zone 'UTC', ${CURSOR_AT_FORMAT}) as cursor_at
        from public.webhook_endpoints e
        where ${scope(caller)} ${query.tenantId ? sql`and e.tenant_id = ${query.tenantId}` : sql``}
          ${after("e", query.cursor)}
        order by e.created_at desc, e.id desc
        limit ${query.limit + 1}`;
      return pageOf(rows, query.limit) as Page<EndpointView>;
    },

    /** One endpoint, or null when it does not exist for this caller. */
    get,

    /**
     * Applies `changes`. With `reenable`, also clears an automatic disabling and closes the
     * circuit, so the endpoint gets deliveries again at once.
     */
    async update(
      caller: AuthorizedCaller,
      id: string,
      changes: Record<string, unknown>,
      reenable: boolean,
    ): Promise<EndpointView | null> {
      const reset = reenable
        ? sql`, disabled_at = null, disabled_reason = null, consecutive_failures = 0, failing_since = null,
              circuit_state = 'closed', circuit_changed_at = now()`
        : sql``;
      const [row] = await sql`
        update public.webhook_endpoints e set ${sql(changes)}, updated_at = now() ${reset}
        where e.id = ${id} and ${scope(caller)}
        returning ${columns}`;
      return (row as EndpointView | undefined) ?? null;
    },

    /** Deletes an endpoint and (by cascade) its deliveries; false when there was none. */
    async remove(caller: AuthorizedCaller, id: string): Promise<boolean> {
      const rows = await sql`
        delete from public.webhook_endpoints e where e.id = ${id} and ${scope(caller)} returning e.id`;
      return rows.length > 0;
    },

    /** Installs a new secret; the current one keeps signing for 24 hours (see rotateSecret). */
    rotateSecret: (caller: AuthorizedCaller, id: string, secret: string, expirePrevious: boolean) =>
      rotateSecret<EndpointView>(sql, "webhook_endpoints", ENDPOINT_COLUMNS, caller, id, secret, expirePrevious),

    /** Queues a webhook.test event for this endpoint alone; its event id. */
    async sendTest(caller: AuthorizedCaller, id: string): Promise<string | null> {
      const [row] = await sql<{ event_id: string }[]>`
        select public.send_webhook_test_event(e.id) as event_id
        from public.webhook_endpoints e where e.id = ${id} and ${scope(caller)}`;
      return row?.event_id ?? null;
    },

    /**
     * The endpoint's deliveries, newest first, each with its attempts in order: two queries
     * whatever the page size. Null when the endpoint does not exist for this caller.
     */
    async deliveries(
      caller: AuthorizedCaller,
      id: string,
      query: { limit: number; cursor?: Cursor; status?: string },
    ): Promise<Page<Record<string, unknown>> | null> {
      const rows = await sql<Paged[]>`
        select d.id, d.event_id, ev.type as event_type, d.status, d.attempts as attempt_count,
               d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at, d.completed_at,
               to_char(d.created_at at time zone 'UTC', ${CURSOR_AT_FORMAT}) as cursor_at
        from public.webhook_endpoints e
        join public.webhook_deliveries d on d.endpoint_id = e.id
        join public.outbound_events ev on ev.id = d.event_id
        where e.id = ${id} and ${scope(caller)}
          ${query.status ? sql`and d.status = ${query.status}` : sql``}
          ${after("d", query.cursor)}
        order by d.created_at desc, d.id desc
        limit ${query.limit + 1}`;
      // An empty page is either an endpoint without deliveries or no endpoint at all.
      if (rows.length === 0 && !(await get(caller, id))) return null;
      const ids = rows.slice(0, query.limit).map((row) => row.id);
      const attempts = ids.length === 0 ? [] : await sql<{ delivery_id: string }[]>`
        select a.delivery_id, a.attempt, a.started_at, a.duration_ms, a.status_code, a.response_body, a.error, a.outcome
        from public.webhook_delivery_attempts a
        where a.delivery_id = any(${ids}::uuid[])
        order by a.delivery_id, a.attempt`;
      const byDelivery = new Map<string, Record<string, unknown>[]>();
      for (const { delivery_id, ...attempt } of attempts) {
        const list = byDelivery.get(delivery_id) ?? [];
        byDelivery.set(delivery_id, list);
        list.push(attempt);
      }
      const shown = pageOf(rows, query.limit);
      return { ...shown, data: shown.data.map((row: Paged) => ({ ...row, attempts: byDelivery.get(row.id) ?? [] })) };
    },

    /** Replays one delivery of this endpoint: true, false while it is in flight, null if not found. */
    async replay(caller: AuthorizedCaller, endpointId: string, deliveryId: string): Promise<boolean | null> {
      const [row] = await sql<{ replayed: boolean }[]>`
        select public.replay_webhook_delivery(d.id) as replayed
        from public.webhook_deliveries d join public.webhook_endpoints e on e.id = d.endpoint_id
        where d.id = ${deliveryId} and e.id = ${endpointId} and ${scope(caller)}`;
      return row?.replayed ?? null;
    },

    /** Replays the endpoint's failed and exhausted deliveries created in [from, to); how many. */
    async recover(caller: AuthorizedCaller, id: string, from: string, to: string): Promise<number | null> {
      const [row] = await sql<{ replayed: number }[]>`
        select public.recover_webhook_deliveries(e.id, ${from}::timestamptz, ${to}::timestamptz) as replayed
        from public.webhook_endpoints e where e.id = ${id} and ${scope(caller)}`;
      return row?.replayed ?? null;
    },
  };
}

/** The SQL of the management API; see {@link endpointStore}. */
export type EndpointStore = ReturnType<typeof endpointStore>;
