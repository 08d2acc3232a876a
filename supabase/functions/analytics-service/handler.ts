import type { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { type BrowserCaller, createBrowserAuthenticator } from "../_shared/http/browser-auth.ts";
import { authorized, type Caller, createAuthenticator } from "../_shared/http/caller-auth.ts";
import { type CorsPolicy, withCors } from "../_shared/http/cors.ts";
import { refuseWithAccess, unmatchedRoute } from "../_shared/http/access-log.ts";
import { HttpError } from "../_shared/http/errors.ts";
import type { JwtKeys } from "../_shared/http/jwt-verifier.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { createPostgresRateLimiter, type RateLimitPolicy } from "../_shared/rate-limit.ts";
import { requestFacts } from "../_shared/tracking/event-row.ts";
import { ingestBatch, ingestRequestSchema } from "./ingest.ts";
import {
  eventCounts,
  eventsQuery,
  funnel,
  funnelQuery,
  shareCounts,
  sharesQuery,
  topContent,
  topContentQuery,
} from "./metrics.ts";

/** What the analytics-service handler needs. */
export interface AnalyticsServiceDeps extends PipelineDeps {
  sql: Sql;
  cors: Pick<CorsPolicy, "allowedOrigins">;
  serviceRoleKey?: string;
  jwt: JwtKeys;
  perIp: RateLimitPolicy;
  /** When set, the only custom event names ingest accepts. */
  customEvents?: ReadonlySet<string>;
}

const NAME = "analytics-service";

/** One metric: its query schema and the SQL that answers it, for the service role or an admin. */
function metric<Q extends z.ZodType>(
  deps: AnalyticsServiceDeps,
  authenticate: (req: Request) => Promise<Caller>,
  which: string,
  schema: Q,
  run: (sql: Sql, query: z.output<Q>) => Promise<unknown>,
) {
  return createHandler<Caller, z.output<Q>>({
    name: NAME,
    methods: ["GET"],
    pattern: `/metrics/${which}`,
    // The query string is the input of a GET, validated like a body (400 before 403).
    authenticate: async (ctx) => ({
      principal: await authenticate(ctx.req),
      parsed: Object.fromEntries(ctx.url.searchParams),
    }),
    schema: schema as z.ZodType<z.output<Q>>,
    authorize: (caller) => void authorized(caller),
    handle: async ({ body }) => ({ status: 200, body: await run(deps.sql, body) }),
  }, deps);
}

/**
 * analytics-service. `POST /analytics-service` ingests a batch from a browser (anon key or a
 * session token); `GET /analytics-service/metrics/<events|shares|top-content|funnel>` answers
 * the service role or an admin from the rollups.
 */
export function createAnalyticsServiceHandler(deps: AnalyticsServiceDeps): (req: Request) => Promise<Response> {
  const authenticateBrowser = createBrowserAuthenticator(deps.jwt);
  const takeToken = createPostgresRateLimiter(deps.sql);
  const ingest = createHandler<BrowserCaller, z.output<typeof ingestRequestSchema>>({
    name: NAME,
    methods: ["POST"],
    authenticate: async (ctx) => ({ principal: await authenticateBrowser(ctx.req) }),
    schema: ingestRequestSchema,
    rateLimit: (_caller, ctx) => takeToken(`${NAME}:ip:${ctx.clientIp}`, deps.perIp),
    handle: async ({ ctx, principal, body }) => ({
      status: 200,
      body: await ingestBatch(deps.sql, body, requestFacts(ctx, principal), { customEvents: deps.customEvents }),
    }),
  }, deps);
  const authenticateAdmin = createAuthenticator({
    serviceRoleKey: deps.serviceRoleKey,
    jwtSecret: deps.jwt.secret,
    jwksUrl: deps.jwt.jwksUrl,
  });
  const metrics: Record<string, (req: Request) => Promise<Response>> = {
    events: metric(deps, authenticateAdmin, "events", eventsQuery, eventCounts),
    shares: metric(deps, authenticateAdmin, "shares", sharesQuery, shareCounts),
    "top-content": metric(deps, authenticateAdmin, "top-content", topContentQuery, topContent),
    funnel: metric(deps, authenticateAdmin, "funnel", funnelQuery, funnel),
  };

  const route = (req: Request) => {
    const [name, section, which, ...rest] = new URL(req.url).pathname.split("/").filter(Boolean);
    if (name === NAME && section === undefined) return ingest(req);
    if (name === NAME && section === "metrics" && rest.length === 0 && Object.hasOwn(metrics, which ?? "")) {
      return metrics[which](req);
    }
    const entry = { fn: NAME, route: unmatchedRoute(req, NAME), startedAt: performance.now() };
    return Promise.resolve(refuseWithAccess(
      deps.logger,
      req,
      entry,
      new HttpError(404, "not_found", `POST /${NAME}, or GET /${NAME}/metrics/{${Object.keys(metrics).join("|")}}.`),
    ));
  };
  return withCors({ allowedOrigins: deps.cors.allowedOrigins, methods: ["GET", "POST"] }, route, {
    fn: NAME,
    logger: deps.logger,
  });
}
