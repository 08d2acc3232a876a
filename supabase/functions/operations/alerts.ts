import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import type { Alert } from "./health.ts";

/** Who did it, as audits and alerts record it: the platform, or a tenant's admin. */
export function actorOf(caller: AuthorizedCaller): string {
  return caller.kind === "platform" ? "platform" : `tenant:${caller.tenantId}`;
}

/** The SQL of alerts: list, acknowledge and resolve, scoped to the caller's tenant. */
export function alertStore(sql: Sql) {
  const scope = (caller: AuthorizedCaller) =>
    caller.kind === "platform" ? sql`true` : sql`a.tenant_id = ${caller.tenantId}`;
  return {
    /** Alerts newest first; `status` narrows (default: every unresolved one). */
    list(caller: AuthorizedCaller, status: string | undefined, limit: number): Promise<Alert[]> {
      const which = status ? sql`a.status = ${status}` : sql`a.status <> 'resolved'`;
      return sql<Alert[]>`
        select a.* from public.ops_alerts a where ${which} and ${scope(caller)}
        order by a.last_seen_at desc, a.id desc limit ${limit}`;
    },

    /**
     * Moves an alert to `acknowledged` (an operator is on it) or `resolved`. Null when there is
     * no such alert for this caller; unchanged when it is already resolved.
     */
    async transition(caller: AuthorizedCaller, id: number, to: "acknowledged" | "resolved"): Promise<Alert | null> {
      const actor = actorOf(caller);
      const [row] = await sql<Alert[]>`
        update public.ops_alerts a set
          status = case when a.status = 'resolved' then a.status else ${to} end,
          acknowledged_at = case when ${to} = 'acknowledged' and a.status = 'open' then now() else a.acknowledged_at end,
          acknowledged_by = case when ${to} = 'acknowledged' and a.status = 'open' then ${actor} else a.acknowledged_by end,
          resolved_at = case when ${to} = 'resolved' and a.status <> 'resolved' then now() else a.resolved_at end,
          resolved_by = case when ${to} = 'resolved' and a.status <> 'resolved' then ${actor} else a.resolved_by end
        where a.id = ${id} and ${scope(caller)}
        returning a.*`;
      return row ?? null;
    },
  };
}
