import type { Sql } from "../_shared/db.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { authenticateWorkerCall, type WorkerCredentials } from "../_shared/worker-auth.ts";
import { z } from "zod";
import { dispatch, type DispatchDeps } from "./dispatch.ts";
import { deliveryQueue } from "./queue.ts";
import { postDelivery } from "./send.ts";

/** What the webhook-dispatcher handler needs. */
export interface DispatcherDeps extends
  PipelineDeps,
  WorkerCredentials,
  Pick<
    DispatchDeps,
    "checkUrl" | "leaseSeconds" | "cooldownSeconds" | "circuitThreshold" | "timeoutMs" | "concurrency" | "budgetMs"
  > {
  sql: Sql;
}

/** `{"action": "dispatch"}`: send what is due now. */
const dispatchRequest = z.object({ action: z.literal("dispatch") });

/**
 * webhook-dispatcher: sends due partner deliveries, called by the wake-ups (pg_net per
 * inserting statement, the pg_cron sweep) or by the service role.
 */
export function createDispatcherHandler(deps: DispatcherDeps): (req: Request) => Promise<Response> {
  const dispatchDeps: Omit<DispatchDeps, "log"> = {
    queue: deliveryQueue(deps.sql),
    post: postDelivery,
    workerId: `webhook-dispatcher:${crypto.randomUUID()}`,
    checkUrl: deps.checkUrl,
    leaseSeconds: deps.leaseSeconds,
    cooldownSeconds: deps.cooldownSeconds,
    circuitThreshold: deps.circuitThreshold,
    timeoutMs: deps.timeoutMs,
    concurrency: deps.concurrency,
    budgetMs: deps.budgetMs,
  };
  return createHandler({
    name: "webhook-dispatcher",
    methods: ["POST"],
    authenticate: (ctx) => authenticateWorkerCall(ctx, deps),
    schema: dispatchRequest,
    handle: async ({ ctx }) => {
      const report = await dispatch({ ...dispatchDeps, log: ctx.log });
      ctx.log[report.claimed > 0 ? "info" : "debug"]("webhook dispatch finished", { ...report });
      return { status: 200, body: report };
    },
  }, deps);
}
