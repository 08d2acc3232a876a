import type { Logger } from "../log.ts";
import { logAccess, refuseWithAccess, unmatchedRoute } from "./access-log.ts";
import { HttpError } from "./errors.ts";
import { requestIdOf } from "./request-id.ts";

/** Which browser origins may call a function, and what they may send. */
export interface CorsPolicy {
  /**
   * Exact origins (`https://shop.example`), `*` for any, or one wildcard label:
   * `https://*.shop.example` (any subdomain), `http://localhost:*` (any port).
   */
  allowedOrigins: readonly string[];
  methods: readonly string[];
}

// What supabase-js sends (authorization, apikey, x-client-info; x-region and trace context when an
// app turns them on) plus the suite's own headers.
const ALLOWED_HEADERS =
  "authorization, apikey, x-client-info, content-type, idempotency-key, x-request-id, x-region, traceparent, tracestate, baggage";
// What a browser script may read: Retry-After to back off, the request id to report a problem.
const EXPOSED_HEADERS = "retry-after, x-request-id, idempotent-replayed";
// Browsers cap this (Chrome at 2 h); a day costs nothing where the cap is higher.
const PREFLIGHT_MAX_AGE_SECONDS = "86400";

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A predicate over `Origin` values for the patterns of {@link CorsPolicy.allowedOrigins}. */
export function originMatcher(patterns: readonly string[]): (origin: string) => boolean {
  if (patterns.includes("*")) return () => true;
  const exact = new Set(patterns.filter((p) => !p.includes("*")).map((p) => p.toLowerCase()));
  const wildcards = patterns.filter((p) => p.includes("*")).map((pattern) => {
    const [scheme, rest] = pattern.toLowerCase().split("://");
    const body = escapeRegExp(rest ?? "")
      .replace(/^\\\*\\\./, "(?:[a-z0-9-]+\\.)+")
      .replace(/:\\\*$/, "(?::\\d{1,5})?");
    return new RegExp(`^${escapeRegExp(scheme)}://${body}$`);
  });
  return (origin) => {
    const candidate = origin.toLowerCase();
    return exact.has(candidate) || wildcards.some((pattern) => pattern.test(candidate));
  };
}

/**
 * Wraps a handler for browser callers: answers preflights itself, stamps CORS headers on every
 * response (errors included, so a page can read a 429's Retry-After or a 400's details), and
 * refuses a request whose `Origin` is not allowed with 403 before any work is done. Requests
 * without an `Origin` (servers, curl) pass through: CORS is a browser's rule, not a credential.
 * The refusal and the preflight write their access lines (as function `access.fn`); what passes
 * through gets its own from the pipeline.
 */
export function withCors(
  policy: CorsPolicy,
  handler: (req: Request) => Promise<Response>,
  access: { fn: string; logger: Logger },
) {
  const allowed = originMatcher(policy.allowedOrigins);
  const methods = [...policy.methods, "OPTIONS"].join(", ");
  return async (req: Request): Promise<Response> => {
    const entry = { fn: access.fn, route: unmatchedRoute(req, access.fn), startedAt: performance.now() };
    const origin = req.headers.get("origin");
    if (origin !== null && !allowed(origin)) {
      return refuseWithAccess(
        access.logger,
        req,
        entry,
        new HttpError(
          403,
          "origin_not_allowed",
          `Origin ${origin} may not call this function; add it to CORS_ALLOWED_ORIGINS.`,
        ),
      );
    }
    const cors: Record<string, string> = origin === null ? {} : {
      "access-control-allow-origin": origin,
      "access-control-expose-headers": EXPOSED_HEADERS,
      vary: "Origin",
    };
    if (req.method === "OPTIONS") {
      const log = access.logger.with({ requestId: requestIdOf(req) });
      logAccess(log, new URL(req.url), { ...entry, status: 204, outcome: "ok" });
      return new Response(null, {
        status: 204,
        headers: {
          ...cors,
          "access-control-allow-methods": methods,
          "access-control-allow-headers": ALLOWED_HEADERS,
          "access-control-max-age": PREFLIGHT_MAX_AGE_SECONDS,
          vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
        },
      });
    }
    const response = await handler(req);
    for (const [name, value] of Object.entries(cors)) response.headers.set(name, value);
    return response;
  };
}
