import type { Logger } from "../log.ts";
import { describeServerSpan } from "../telemetry/tracing.ts";
import { errorResponse, type HttpError } from "./errors.ts";
import { requestIdOf } from "./request-id.ts";

/** One request's access line, before its duration is measured. */
export interface AccessEntry {
  fn: string;
  /** `POST /inbound-webhook/:id`; see {@link accessRoute}. */
  route: string;
  status: number;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  outcome: string;
}

/**
 * The access log: one JSON line per request, `msg: "access"`, written when the response is
 * ready, so Supabase's log explorer can filter and aggregate on it. Fields: `requestId`, `fn`,
 * `route` (method and route pattern, never ids or the query string, which may carry api keys),
 * `status`, `duration_ms` (from the function receiving the request to its response) and
 * `outcome` (`ok` below 400, else the error code; `refused` or `error` for an answer without one). Headers are never logged. Every response
 * passes through exactly one writer: the pipeline (`createHandler`) for the requests
 * it serves, {@link refuseWithAccess} for the refusals made before a request reaches one.
 * It logs at info, so `LOG_LEVEL=warn` drops it along with the other info lines. Being the
 * one place every request passes, it also gives the request's server span its route (see
 * describeServerSpan).
 */
export function logAccess(log: Logger, url: URL, entry: AccessEntry): void {
  describeServerSpan(entry.route, url);
  log.info("access", {
    fn: entry.fn,
    route: entry.route,
    status: entry.status,
    duration_ms: Math.round((performance.now() - entry.startedAt) * 10) / 10,
    outcome: entry.outcome,
  });
}

/** `METHOD /fn/pattern` for a route pattern (`/:id/deliveries`); without one, the function's root. */
export function accessRoute(method: string, fn: string, pattern?: string): string {
  const tail = pattern === undefined ? "" : pattern.replace(/\/+$/, "");
  return `${method} /${fn}${tail}`;
}

/**
 * The route of a request no route pattern matched: the function's root, or `/fn/*` for a
 * deeper path, so a scanner's random paths (and whatever they carry) neither leak into the
 * log nor multiply its routes.
 */
export function unmatchedRoute(req: Request, fn: string): string {
  const segments = new URL(req.url).pathname.split("/").filter(Boolean);
  return accessRoute(req.method, fn, segments.length <= 1 ? undefined : "/*");
}

/** The error response of a request refused before any pipeline, with its access line. */
export function refuseWithAccess(
  logger: Logger,
  req: Request,
  entry: { fn: string; route: string; startedAt: number },
  error: HttpError,
): Response {
  const requestId = requestIdOf(req);
  logAccess(logger.with({ requestId }), new URL(req.url), { ...entry, status: error.status, outcome: error.code });
  return errorResponse(error, requestId);
}
