import { z } from "zod";
import type { Logger } from "../log.ts";
import { isUuid } from "../uuid.ts";
import { type AuthorizedCaller, createAuthenticator } from "./caller-auth.ts";
import type { JwtKeys } from "./jwt-verifier.ts";
import type { PipelineDeps } from "./pipeline.ts";
import { accessRoute, refuseWithAccess, unmatchedRoute } from "./access-log.ts";
import { withCors } from "./cors.ts";
import { HttpError } from "./errors.ts";
import { matchPattern, type Operation, operation, type OperationSpec, pathSegments } from "./router.ts";
import { validateOrReject } from "./validate.ts";

/**
 * Serves a management API's operations under function `name`: routes by path first (unknown →
 * 404, a known path with another method → 405 with Allow), then hands the request to that
 * operation's pipeline. A refusal here writes the request's access line; the pipeline writes
 * every other.
 */
export function serveOperations(
  name: string,
  operations: Operation[],
  logger: Logger,
): (req: Request) => Promise<Response> {
  return (req) => {
    const startedAt = performance.now();
    const refuse = (route: string, error: HttpError) =>
      Promise.resolve(refuseWithAccess(logger, req, { fn: name, route, startedAt }, error));
    const segments = pathSegments(name, new URL(req.url).pathname);
    const onPath = segments ? operations.filter((op) => matchPattern(op.pattern, segments)) : [];
    if (onPath.length === 0) {
      return refuse(unmatchedRoute(req, name), new HttpError(404, "not_found", "No such route."));
    }
    const op = onPath.find((candidate) => candidate.method === req.method);
    if (!op) {
      const allow = onPath.map((candidate) => candidate.method).join(", ");
      const route = accessRoute(req.method, name, onPath[0].pattern.map((part) => `/${part}`).join(""));
      return refuse(route, new HttpError(405, "method_not_allowed", `Use ${allow}.`, { headers: { allow } }));
    }
    return op.serve(req);
  };
}

/** Which browser origins may call an admin API (CORS_ALLOWED_ORIGINS): none when left out. */
export interface AdminCors {
  cors?: { allowedOrigins: readonly string[] };
}

/**
 * Serves `operations` as {@link serveOperations} does, for browsers on another origin too (the
 * dashboard on a static host): preflights answered, CORS headers on every answer, an origin not
 * in `deps.cors` refused with 403 `origin_not_allowed` (see withCors). Requests without an
 * `Origin` header (curl, servers) are served exactly as before. `inner` replaces the routed
 * handler where a function serves more than its operations (the operations liveness probe).
 */
export function serveAdminApi(
  name: string,
  operations: Operation[],
  deps: AdminCors & { logger: Logger },
  inner: (req: Request) => Promise<Response> = serveOperations(name, operations, deps.logger),
): (req: Request) => Promise<Response> {
  const methods = [...new Set(operations.map((op) => op.method))];
  return withCors({ allowedOrigins: deps.cors?.allowedOrigins ?? [], methods }, inner, {
    fn: name,
    logger: deps.logger,
  });
}

/** What an admin API authenticates its callers with. */
export interface AdminCredentials {
  serviceRoleKey?: string;
  jwt: JwtKeys;
}

/** An admin API's operation builder: each operation takes the service role key or an admin JWT (see createAuthenticator). */
export function adminOperations(
  name: string,
  deps: PipelineDeps & AdminCredentials,
): <B>(spec: OperationSpec<B>) => Operation {
  const authenticate = createAuthenticator({
    serviceRoleKey: deps.serviceRoleKey,
    jwtSecret: deps.jwt.secret,
    jwksUrl: deps.jwt.jwksUrl,
  });
  return (spec) => operation(name, spec, authenticate, deps);
}

/** The body of GET and DELETE, and of action routes that take nothing: none, or `{}`. */
export const emptyBody = z.strictObject({});

/** A path id, or the 404 of a missing row: a string that is no uuid names no row. */
export function idParam(value: string | undefined, missing: () => HttpError): string {
  if (!isUuid(value)) throw missing();
  return value.toLowerCase();
}

/** The query string validated by `schema`; a 400 names the failing `query.*` paths. */
export function queryOf<T extends z.ZodType>(schema: T, url: URL): z.infer<T> {
  return validateOrReject(schema, Object.fromEntries(url.searchParams), {
    prefix: ["query"],
    message: "The query string is invalid.",
  });
}

/** `value` without its undefined fields: what was not sent keeps its default or current value. */
export function defined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
}

/** True when the caller may act for `tenantId`: the platform always, a tenant for itself (or when none is named). */
export function ownTenant(caller: AuthorizedCaller, tenantId: string | null | undefined): boolean {
  return caller.kind === "platform" || tenantId === undefined || tenantId?.toLowerCase() === caller.tenantId;
}
