import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";
import { jsonb } from "../_shared/sql-json.ts";
import { actorOf } from "./alerts.ts";

/** One audited action: who ran what, with which parameters, and how many rows it touched. */
export interface AuditEntry {
  caller: AuthorizedCaller;
  action: string;
  params: unknown;
  dryRun: boolean;
  touched: number;
  requestId: string;
  clientIp: string;
}

/**
 * Records an action in security_events (kind `ops_action`), where every other security-relevant
 * event already is, so one query shows who changed what and who was refused. It is written
 * directly, not through the securityLogger: an operator's busy night of repairs is not a burst
 * to alert on.
 */
export async function audit(sql: Sql, entry: AuditEntry): Promise<void> {
  await sql`
    insert into public.security_events (kind, severity, source, function_name, request_id, details)
    values ('ops_action', 'info', ${actorOf(entry.caller)}, 'operations', ${entry.requestId},
            ${
    jsonb(sql, {
      action: entry.action,
      params: entry.params,
      dry_run: entry.dryRun,
      touched: entry.touched,
      client: entry.clientIp,
    })
  })`;
}
