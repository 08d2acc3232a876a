import type * as v from "valibot";
import type { Sql } from "../_shared/db.ts";
import { type BrowserCaller, createBrowserAuthenticator } from "../_shared/http/browser-auth.ts";
import { type CorsPolicy, withCors } from "../_shared/http/cors.ts";
import type { JwtKeys } from "../_shared/http/jwt-verifier.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { createIdempotencyStore } from "../_shared/idempotency.ts";
import { createPostgresRateLimiter, type RateLimitPolicy } from "../_shared/rate-limit.ts";
import { requestFacts } from "../_shared/tracking/event-row.ts";
import { zodFromValibot } from "../_shared/tracking/zod-bridge.ts";
import { recordShare } from "./record-share.ts";
import { shareRequestSchema } from "./schema.ts";

/** What the track-social-share handler needs. */
export interface TrackSocialShareDeps extends PipelineDeps {
  sql: Sql;
  cors: Pick<CorsPolicy, "allowedOrigins">;
  /** Verifies session tokens here as well as at the gateway. */
  jwt: JwtKeys;
  dedupWindowSeconds: number;
  perIp: RateLimitPolicy;
  perSession: RateLimitPolicy;
}

/**
 * track-social-share: a browser reports a share. CORS, then the contract's pipeline (the body
 * validated with zod, an Idempotency-Key honoured, rate limits per address and per session
 * kept in Postgres), then the share is normalized and recorded with its analytics event.
 */
export function createTrackSocialShareHandler(deps: TrackSocialShareDeps): (req: Request) => Promise<Response> {
  const authenticate = createBrowserAuthenticator(deps.jwt);
  const takeToken = createPostgresRateLimiter(deps.sql);
  const handler = createHandler<BrowserCaller, v.InferOutput<typeof shareRequestSchema>>({
    name: "track-social-share",
    methods: ["POST"],
    // The largest valid share (three 2 KiB URLs and short fields) is under 8 KiB; anything
    // bigger is junk and is refused before it is read in full.
    maxBodyBytes: 16 * 1024,
    authenticate: async (ctx) => ({ principal: await authenticate(ctx.req) }),
    // The pipeline takes a zod schema, and the share schema is valibot (the browser client
    // bundles it): bridged, it answers the same issues.
    schema: zodFromValibot(shareRequestSchema),
    idempotency: { store: createIdempotencyStore(deps.sql), scope: "track-social-share" },
    rateLimit: async (_caller, ctx, share) => {
      const byAddress = await takeToken(`track-social-share:ip:${ctx.clientIp}`, deps.perIp);
      if (!byAddress.allowed) return byAddress;
      return await takeToken(`track-social-share:session:${share.session_id}`, deps.perSession);
    },
    handle: ({ ctx, principal, body }) =>
      recordShare(deps.sql, body, requestFacts(ctx, principal), deps.dedupWindowSeconds),
  }, deps);
  return withCors({ allowedOrigins: deps.cors.allowedOrigins, methods: ["POST"] }, handler, {
    fn: "track-social-share",
    logger: deps.logger,
  });
}
