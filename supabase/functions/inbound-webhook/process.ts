import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { authenticateWorkerCall, type WorkerCredentials } from "../_shared/worker-auth.ts";

/** What the async batch worker needs. */
export interface ProcessDeps extends PipelineDeps, WorkerCredentials {
  sql: Sql;
  /** Events per claim (one transaction each). */
  batchLimit: number;
  /** Stop claiming after this long, so one call never outlives the platform's request limit. */
  budgetMs: number;
}

/** What one call processed, summed over its claims. */
export interface ProcessReport {
  claimed: number;
  processed: number;
  retried: number;
  failed: number;
}

/** `{"action": "process"}`: run the async sources' batches that are ready. */
const processRequest = z.object({ action: z.literal("process") });

/**
 * Claims and processes ready batches (process_inbound_events: the claim's row locks are the
 * lease, each effect in its own savepoint) until a claim comes back short of the limit or the
 * budget is spent. Called by the wake-ups (pg_net after an async event is recorded, the pg_cron
 * sweep for batches whose wait runs out) or by the service role.
 */
export function createProcessHandler(deps: ProcessDeps): (req: Request) => Promise<Response> {
  return createHandler({
    name: "inbound-webhook",
    methods: ["POST"],
    authenticate: (ctx) => authenticateWorkerCall(ctx, deps),
    schema: processRequest,
    handle: async ({ ctx }) => {
      const report: ProcessReport = { claimed: 0, processed: 0, retried: 0, failed: 0 };
      const deadline = Date.now() + deps.budgetMs;
      let claimed: number;
      do {
        const [batch] = await deps.sql<ProcessReport[]>`
          select claimed, processed, retried, failed from public.process_inbound_events(${deps.batchLimit})`;
        for (const key of Object.keys(report) as (keyof ProcessReport)[]) report[key] += batch[key];
        claimed = batch.claimed;
      } while (claimed === deps.batchLimit && Date.now() < deadline);
      ctx.log[report.claimed > 0 ? "info" : "debug"]("inbound batches processed", { ...report });
      return { status: 200, body: report };
    },
  }, deps);
}
