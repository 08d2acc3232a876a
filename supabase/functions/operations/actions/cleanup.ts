import { z } from "zod";
import { HttpError } from "../../_shared/http/errors.ts";
import { type Action, BATCH_ROWS, inBatches } from "./action.ts";

// The bounds ops_retention's check constraint holds: 7 days is the floor, past every
// provider's retry window (Stripe retries for 3 days), so a redelivery still meets its row.
const days = z.number().int().min(7).max(3650);

/** `cleanup` parameters: how old a success and a failure must be to go; the configured retention by default. */
export const cleanupParams = z.strictObject({
  older_than_days: days.optional(),
  failed_older_than_days: days.optional(),
  dry_run: z.boolean().optional(),
});

/** 400 unless failures are kept at least as long as successes, once the configured defaults fill what was not sent. */
function checkOrder(success: number, failure: number): void {
  if (failure < success) {
    const message = `must be at least older_than_days (${success}): failures are kept at least as long as successes`;
    throw new HttpError(400, "invalid_request", `failed_older_than_days ${message}.`, {
      details: [{ path: "failed_older_than_days", message }],
    });
  }
}

/**
 * `cleanup {older_than_days, failed_older_than_days, dry_run}`: deletes settled rows past the
 * retention, table by table (ops_retention_tables), through the same ops_cleanup_batch the
 * scheduled ops_retention() runs, BATCH_ROWS per statement, so each transaction is short and
 * only old rows are locked. A call that runs out of time says so (`complete: false`); the next
 * one carries on.
 */
export const cleanup: Action<z.infer<typeof cleanupParams>> = {
  platformOnly: true,
  params: cleanupParams,
  async run(ctx, params) {
    const { sql } = ctx;
    const [configured] = await sql<{ successes: number; failures: number; tables: string[] }[]>`
      select (select days from public.ops_retention where kind = 'successes') as successes,
             (select days from public.ops_retention where kind = 'failures') as failures,
             public.ops_retention_tables() as tables`;
    const success = params.older_than_days ?? configured.successes;
    const failure = params.failed_older_than_days ?? Math.max(configured.failures, success);
    checkOrder(success, failure);
    const tables: Record<string, { matched?: number; deleted?: number; complete?: boolean }> = {};
    let touched = 0;
    let complete = true;
    for (const table of configured.tables) {
      const batch = (dryRun: boolean) =>
        sql<
          { n: number }[]
        >`select public.ops_cleanup_batch(${table}, ${success}, ${failure}, ${BATCH_ROWS}, ${dryRun}) as n`
          .then(([row]) => row.n);
      if (params.dry_run) {
        tables[table] = { matched: await batch(true) };
        continue;
      }
      const result: { done: number; complete: boolean } = complete
        ? await inBatches(ctx, `cleanup ${table}`, () => batch(false))
        : { done: 0, complete: false };
      tables[table] = { deleted: result.done, complete: result.complete };
      touched += result.done;
      complete &&= result.complete;
    }
    return {
      touched,
      body: {
        older_than_days: success,
        failed_older_than_days: failure,
        tables,
        ...(params.dry_run ? {} : { complete }),
      },
    };
  },
};
