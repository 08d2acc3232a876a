import { z } from "zod";
import type { Fragment } from "../../_shared/db.ts";
import { type Action, type ActionContext, BATCH_ROWS, inBatches } from "./action.ts";

/**
 * The retention policy's defaults: successes are kept 30 days, failures 90. Both are far past
 * the providers' retry windows (Stripe retries for 3 days), so a redelivery always meets its
 * event's row and stays a duplicate. 7 days is the floor for the same reason.
 */
export const RETENTION = { successDays: 30, failureDays: 90, minDays: 7, maxDays: 3650 } as const;

const days = z.number().int().min(RETENTION.minDays).max(RETENTION.maxDays);

/** `cleanup` parameters: how old a success and a failure must be to go. */
export const cleanupParams = z.strictObject({
  older_than_days: days.default(RETENTION.successDays),
  failed_older_than_days: days.default(RETENTION.failureDays),
  dry_run: z.boolean().optional(),
}).refine((p) => p.failed_older_than_days >= p.older_than_days, {
  path: ["failed_older_than_days"],
  message: "must be at least older_than_days: failures are kept at least as long as successes",
});

interface Target {
  table: string;
  /** Rows of this table to delete, as a condition on alias `t`. */
  where: (ctx: ActionContext, success: Fragment, failure: Fragment) => Fragment;
}

// What each table keeps: its settled rows, by the time they settled. Deliveries' attempts go
// with them (on delete cascade), and outbound events once no delivery refers to them.
const TARGETS: Target[] = [
  {
    table: "webhook_events",
    where: ({ sql }, success, failure) =>
      sql`(t.status in ('processed', 'ignored') and t.received_at < ${success})
          or (t.status in ('failed', 'unmatched') and t.received_at < ${failure})`,
  },
  {
    table: "email_queue",
    where: ({ sql }, success, failure) =>
      sql`(t.status in ('sent', 'delivered', 'bounced', 'complained', 'suppressed', 'canceled') and t.created_at < ${success})
          or (t.status in ('failed', 'dead') and t.created_at < ${failure})`,
  },
  {
    table: "webhook_deliveries",
    where: ({ sql }, success, failure) =>
      sql`(t.status = 'SUCCESS' and t.created_at < ${success})
          or (t.status in ('FAILED', 'RETRY_EXHAUSTED') and t.created_at < ${failure})`,
  },
  {
    table: "outbound_events",
    where: ({ sql }, success) =>
      sql`t.created_at < ${success} and not exists (select 1 from public.webhook_deliveries d where d.event_id = t.id)`,
  },
];

/**
 * `cleanup {older_than_days, failed_older_than_days, dry_run}`: deletes settled rows past the
 * retention, table by table, BATCH_ROWS per statement, so each transaction is short and no
 * lock covers a whole table. A call that runs out of time says so (`complete: false`); the
 * next call carries on.
 */
export const cleanup: Action<z.infer<typeof cleanupParams>> = {
  platformOnly: true,
  params: cleanupParams,
  async run(ctx, params) {
    const { sql } = ctx;
    const success = sql`now() - make_interval(days => ${params.older_than_days})`;
    const failure = sql`now() - make_interval(days => ${params.failed_older_than_days})`;
    const tables: Record<string, { matched?: number; deleted?: number; complete?: boolean }> = {};
    let touched = 0;
    let complete = true;
    for (const target of TARGETS) {
      const relation = sql(`public.${target.table}`);
      const where = target.where(ctx, success, failure);
      if (params.dry_run) {
        const [row] = await sql<{ n: number }[]>`select count(*)::int as n from ${relation} t where ${where}`;
        tables[target.table] = { matched: row.n };
        continue;
      }
      if (!complete) {
        tables[target.table] = { deleted: 0, complete: false };
        continue;
      }
      const result = await inBatches(ctx, `cleanup ${target.table}`, async () => {
        const rows = await sql`
          delete from ${relation} d where d.ctid = any(array(
            select t.ctid from ${relation} t where ${where} limit ${BATCH_ROWS}))
          returning 1`;
        return rows.length;
      });
      tables[target.table] = { deleted: result.done, complete: result.complete };
      touched += result.done;
      complete &&= result.complete;
    }
    return {
      touched,
      body: {
        older_than_days: params.older_than_days,
        failed_older_than_days: params.failed_older_than_days,
        tables,
        ...(params.dry_run ? {} : { complete }),
      },
    };
  },
};
