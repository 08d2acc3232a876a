import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http/errors.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { createIdempotencyStore } from "../_shared/idempotency.ts";
import { createPostgresRateLimiter } from "../_shared/rate-limit.ts";
import { authenticateWorkerCall } from "../_shared/worker-auth.ts";
import { drain, type DrainDeps } from "./drain.ts";
import { emailQueue } from "./queue.ts";
import { emailServiceRequest } from "./schema.ts";
import type { EmailSender } from "./sender.ts";

/** What the email-service handler needs. */
export interface EmailServiceDeps extends PipelineDeps {
  sql: Sql;
  send: EmailSender;
  serviceRoleKey?: string;
  wakeupSecret?: string;
  from: string;
  providerRatePerSecond: number;
  batchSize: number;
  leaseSeconds: number;
  drainBudgetMs: number;
}

/**
 * email-service: `drain` sends what is due; `send` queues one email (202 with its job id)
 * and honours Idempotency-Key. The wake-up secret may only drain.
 */
export function createEmailServiceHandler(deps: EmailServiceDeps): (req: Request) => Promise<Response> {
  const queue = emailQueue(deps.sql);
  const drainDeps: Omit<DrainDeps, "log"> = {
    queue,
    send: deps.send,
    takeToken: createPostgresRateLimiter(deps.sql),
    providerPolicy: { ratePerSecond: deps.providerRatePerSecond, burst: deps.providerRatePerSecond },
    from: deps.from,
    workerId: `email-service:${crypto.randomUUID()}`,
    batchSize: deps.batchSize,
    leaseSeconds: deps.leaseSeconds,
    budgetMs: deps.drainBudgetMs,
    concurrency: 4,
  };
  return createHandler({
    name: "email-service",
    methods: ["POST"],
    authenticate: (ctx) =>
      authenticateWorkerCall(ctx, { serviceRoleKey: deps.serviceRoleKey, wakeupSecret: deps.wakeupSecret }),
    schema: emailServiceRequest,
    authorize: (caller, body) => {
      if (body.action !== "drain" && caller !== "service_role") {
        throw new HttpError(403, "forbidden", "The wake-up secret may only drain the queue.");
      }
    },
    idempotency: { store: createIdempotencyStore(deps.sql), scope: "email-service" },
    handle: async ({ ctx, body }) => {
      if (body.action === "send") {
        const key = `api:${ctx.req.headers.get("idempotency-key") ?? crypto.randomUUID()}`;
        const id = await queue.enqueue(body.template, body.to, body.data, key);
        return { status: 202, body: { id, status: "queued" } };
      }
      const report = await drain({ ...drainDeps, log: ctx.log });
      // The sweep drains an empty queue every minute; only work done is worth a line.
      ctx.log[report.claimed > 0 ? "info" : "debug"]("email drain finished", { ...report });
      return { status: 200, body: report };
    },
  }, deps);
}
