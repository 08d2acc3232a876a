import { serveAdminApi, serveOperations } from "../_shared/http/admin-api.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { pathSegments } from "../_shared/http/router.ts";
import type { Sql } from "../_shared/db.ts";
import { z } from "zod";
import { actionRoutes } from "./actions.ts";
import { liveness } from "./live.ts";
import { type OperationsDeps, operationsRoutes } from "./routes.ts";

export type { OperationsDeps } from "./routes.ts";

/** `GET /operations/health/live`, for uptime checkers: no credentials, and only up or down. */
function createLiveHandler(deps: PipelineDeps & { sql: Sql }): (req: Request) => Promise<Response> {
  return createHandler({
    name: "operations",
    methods: ["GET"],
    pattern: "/health/live",
    authenticate: () => Promise.resolve({ principal: "anyone" }),
    schema: z.object({}),
    handle: async ({ ctx }) => {
      const live = await liveness(deps.sql);
      if (!live.up) ctx.log.error("liveness check failed", { reason: live.reason });
      return { status: live.up ? 200 : 503, body: { status: live.up ? "up" : "down" } };
    },
  }, deps);
}

/**
 * operations: health, alerts, metrics and repair actions over everything the suite runs,
 * for operators and the dashboard (admin only, callable from the browser origins in
 * `deps.cors`), plus a public liveness probe.
 */
export function createOperationsHandler(deps: OperationsDeps): (req: Request) => Promise<Response> {
  const live = createLiveHandler(deps);
  const operations = operationsRoutes(deps, (op) => actionRoutes(deps, op));
  const admin = serveOperations("operations", operations, deps.logger);
  return serveAdminApi("operations", operations, deps, (req) => {
    const segments = pathSegments("operations", new URL(req.url).pathname);
    return segments?.join("/") === "health/live" ? live(req) : admin(req);
  });
}
