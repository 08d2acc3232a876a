import type { z } from "zod";
import { isTransientDbError } from "../db.ts";
import type { IdempotencyStore } from "../idempotency.ts";
import { requestHash } from "../idempotency.ts";
import type { Logger } from "../log.ts";
import type { RateLimitDecision } from "../rate-limit.ts";
import type { SecurityLogger } from "../security-logger.ts";
import { accessRoute, logAccess } from "./access-log.ts";
import { DEFAULT_MAX_BODY_BYTES, hasNoBody, readBodyText } from "./body.ts";
import { clientIpOf, type ClientIpPolicy, withoutAddressHeaders } from "./client-ip.ts";
import { errorResponse, HttpError, jsonResponse } from "./errors.ts";
import { requestIdOf } from "./request-id.ts";
import { validateOrReject } from "./validate.ts";

/** What every step of a request can see. */
export interface RequestContext {
  req: Request;
  url: URL;
  requestId: string;
  /** The client address (see {@link ClientIpPolicy}), or its salted hash where the function anonymizes. */
  clientIp: string;
  log: Logger;
}

/** What `authenticate` returns: who is calling, and the body if verifying it parsed it. */
export interface Authenticated<P> {
  principal: P;
  parsed?: unknown;
}

/** A handler's successful answer. */
export interface HandlerResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The steps of one endpoint, run by {@link createHandler} in the HTTP contract's order. */
export interface Route<P, B> {
  /** The function name, for logs and security events. */
  name: string;
  methods: readonly string[];
  /** The path pattern after the function's name (`/:id/deliveries`), for the access log; none for the root. */
  pattern?: string;
  maxBodyBytes?: number;
  /**
   * The body may be left out: an empty body of any content type, or none at all (what
   * `curl -X POST` and `fetch(url, {method: "POST"})` send), is validated as `{}`. A body
   * that is present must still be application/json.
   */
  optionalBody?: boolean;
  /**
   * The body's accepted media types; `application/json` unless the route says otherwise.
   * `application/x-www-form-urlencoded` bodies (Twilio's posts) are validated as an object of
   * their parameters (a repeated name keeps its last value).
   */
  mediaTypes?: readonly MediaType[];
  /** 401 by throwing an {@link HttpError}; gets the raw body so signatures can be checked. */
  authenticate(ctx: RequestContext, rawBody: string): Promise<Authenticated<P>>;
  /** 400 with the failing paths as `details`. */
  schema: z.ZodType<B>;
  /** 403 by throwing an {@link HttpError}. */
  authorize?(principal: P, body: B, ctx: RequestContext): void | Promise<void>;
  /** 409 / 422 / replay for requests that carry an `Idempotency-Key`. */
  idempotency?: { store: IdempotencyStore; scope: string };
  /** 429 with `Retry-After`; sees the validated body, so a limit may be per session or per tenant. */
  rateLimit?(principal: P, ctx: RequestContext, body: B): Promise<RateLimitDecision>;
  handle(input: { ctx: RequestContext; principal: P; body: B; rawBody: string }): Promise<HandlerResult>;
}

/** What the pipeline needs from the function's wiring. */
export interface PipelineDeps {
  logger: Logger;
  securityLogger?: SecurityLogger;
  /** The function-wide body limit (MAX_BODY_BYTES); a route may set its own. */
  maxBodyBytes?: number;
  /** Which proxy-set header names the client; by default the gateway's x-forwarded-for entry. */
  clientIp?: ClientIpPolicy;
  /** Set by functions that must not keep addresses: what logs, security events and limits see instead. */
  anonymizeIp?(ip: string): Promise<string>;
}

/** The body formats the pipeline can parse. */
export type MediaType = "application/json" | "application/x-www-form-urlencoded";

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);
const JSON_ONLY: readonly MediaType[] = ["application/json"];

/** The body as the schema sees it: a form's parameters as an object, anything else as JSON. */
function parseBody(rawBody: string, mediaType: MediaType | undefined): unknown {
  if (mediaType === "application/x-www-form-urlencoded") return Object.fromEntries(new URLSearchParams(rawBody));
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new HttpError(400, "invalid_json", "The request body is not valid JSON.", {
      security: "malformed_payload",
    });
  }
}

/**
 * Turns a {@link Route} into a web-standard `Request -> Response` handler. Checks run in the
 * HTTP contract's order: 405 method, 415 content type (none needed where the route's body is
 * optional and left out), 413 size, 401 authentication, 400 JSON and schema, 403
 * authorization, 409/422 idempotency, 429 rate limit; then the handler.
 * A transient database failure anywhere answers 503 so the sender retries. Every request,
 * answered or refused, writes one access line (see access-log.ts).
 */
export function createHandler<P, B>(route: Route<P, B>, deps: PipelineDeps): (req: Request) => Promise<Response> {
  const maxBytes = route.maxBodyBytes ?? deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const allowed = route.methods.join(", ");

  return async (req) => {
    const startedAt = performance.now();
    const requestId = requestIdOf(req);
    const ctx: RequestContext = {
      req,
      url: new URL(req.url),
      requestId,
      clientIp: clientIpOf(req, deps.clientIp),
      log: deps.logger.with({ requestId }),
    };
    let response: Response;
    let outcome: string | undefined;
    try {
      if (deps.anonymizeIp) ctx.clientIp = await deps.anonymizeIp(ctx.clientIp);
      response = await run(route, ctx, maxBytes, allowed);
    } catch (error) {
      const refusal = await fail(route, ctx, deps, error);
      outcome = refusal.code;
      response = errorResponse(refusal, requestId);
    }
    const routeName = accessRoute(req.method, route.name, route.pattern);
    const { status } = response;
    // A handler's own 4xx/5xx answer (or an idempotent replay of one) carries no code here.
    outcome ??= status < 400 ? "ok" : status < 500 ? "refused" : "error";
    logAccess(ctx.log, ctx.url, { fn: route.name, route: routeName, status, startedAt, outcome });
    return response;
  };
}

async function run<P, B>(route: Route<P, B>, ctx: RequestContext, maxBytes: number, allowed: string) {
  const { req } = ctx;
  if (!route.methods.includes(req.method)) {
    throw new HttpError(405, "method_not_allowed", `Use ${allowed}.`, { headers: { allow: allowed } });
  }
  const bodyMethod = BODY_METHODS.has(req.method);
  const mediaTypes = route.mediaTypes ?? JSON_ONLY;
  const contentType = req.headers.get("content-type")?.split(";")[0].trim().toLowerCase();
  const accepted = mediaTypes.find((type) => type === contentType);
  if (bodyMethod && !accepted && !(route.optionalBody && await hasNoBody(req))) {
    throw new HttpError(415, "unsupported_media_type", `Send the body as ${mediaTypes.join(" or ")}.`);
  }
  const rawBody = bodyMethod && !accepted ? "" : await readBodyText(req, maxBytes);
  const { principal, parsed } = await route.authenticate(ctx, rawBody);
  const leftOut = route.optionalBody && rawBody.trim() === "";
  const candidate = parsed !== undefined ? parsed : bodyMethod && !leftOut ? parseBody(rawBody, accepted) : {};
  const body: B = validateOrReject(route.schema, candidate);
  await route.authorize?.(principal, body, ctx);

  const key = route.idempotency ? req.headers.get("idempotency-key") : null;
  if (!route.idempotency || !key) return await answer(route, ctx, principal, body, rawBody);

  const { store, scope } = route.idempotency;
  const target = ctx.url.pathname + ctx.url.search;
  const claim = await store.claim(scope, key, await requestHash(req.method, target, rawBody));
  if (claim.outcome === "replay") {
    return jsonResponse(claim.status, claim.body, ctx.requestId, { "idempotent-replayed": "true" });
  }
  if (claim.outcome === "in_flight") {
    throw new HttpError(
      409,
      "idempotency_key_in_flight",
      "A request with this Idempotency-Key is still being processed.",
    );
  }
  if (claim.outcome === "mismatch") {
    throw new HttpError(422, "idempotency_key_reused", "This Idempotency-Key was used with a different request.");
  }
  try {
    const response = await answer(route, ctx, principal, body, rawBody);
    if (response.status < 500) {
      await store.complete(scope, key, response.status, response.body ? await response.clone().json() : null);
    } else await store.release(scope, key);
    return response;
  } catch (error) {
    await store.release(scope, key).catch(() => {});
    throw error;
  }
}

async function answer<P, B>(route: Route<P, B>, ctx: RequestContext, principal: P, body: B, rawBody: string) {
  if (route.rateLimit) {
    const decision = await route.rateLimit(principal, ctx, body);
    if (!decision.allowed) {
      throw new HttpError(429, "rate_limited", "Too many requests; retry later.", {
        headers: { "retry-after": String(decision.retryAfterSeconds) },
        security: "rate_limited",
      });
    }
  }
  const result = await route.handle({ ctx, principal, body, rawBody });
  return jsonResponse(result.status, result.body, ctx.requestId, result.headers);
}

/** Logs and records `error`; resolves with the refusal to answer, whose code is the access line's outcome. */
async function fail<P, B>(
  route: Route<P, B>,
  ctx: RequestContext,
  deps: PipelineDeps,
  error: unknown,
): Promise<HttpError> {
  if (error instanceof HttpError) {
    const level = error.status >= 500 ? "error" : "info";
    ctx.log[level]("request refused", { status: error.status, code: error.code, message: error.message });
    if (error.security && deps.securityLogger) {
      await deps.securityLogger.record({
        kind: error.security,
        source: ctx.clientIp,
        functionName: route.name,
        requestId: ctx.requestId,
        details: {
          code: error.code,
          message: error.message,
          path: ctx.url.pathname,
          headers: deps.anonymizeIp ? withoutAddressHeaders(ctx.req.headers, deps.clientIp) : ctx.req.headers,
        },
      });
    }
    return error;
  }
  if (isTransientDbError(error)) {
    ctx.log.error("database unavailable", { error });
    return new HttpError(503, "service_unavailable", "The database is unavailable; retry later.", {
      headers: { "retry-after": "5" },
    });
  }
  ctx.log.error("unhandled error", { error });
  return new HttpError(500, "internal_error", "Internal error; retry later.");
}
