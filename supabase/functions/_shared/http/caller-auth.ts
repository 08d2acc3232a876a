import { HttpError } from "./errors.ts";
import { secretsEqual } from "../secrets-equal.ts";
import { createJwtVerifier } from "./jwt-verifier.ts";
import { isUuid } from "../uuid.ts";

/**
 * Who is calling. `platform` sees every tenant; `tenant` only its own rows; `refused` holds
 * a valid token that may not use this API, answered 403 once the body has been validated.
 */
export type Caller =
  | { kind: "platform" }
  | { kind: "tenant"; tenantId: string }
  | { kind: "refused"; reason: string };

/** A caller allowed to use the API. */
export type AuthorizedCaller = Exclude<Caller, { kind: "refused" }>;

/** What callers are checked against. */
export interface CallerCredentials {
  serviceRoleKey?: string;
  /** The project's legacy JWT secret (HS256). */
  jwtSecret?: string;
  /** The project's JWKS, for session tokens signed with asymmetric keys. */
  jwksUrl?: string;
}

const unauthorized = (message: string) => new HttpError(401, "unauthorized", message, { security: "auth_failure" });

/**
 * Identifies the caller from `Authorization: Bearer <key>`: the service role key (compared in
 * constant time), or a JWT signed with the project secret or one of its asymmetric keys. A JWT with `role: service_role`
 * is the platform; one whose `app_metadata.role` is "admin" is scoped to
 * `app_metadata.tenant_id`. Missing, forged or expired credentials are a 401.
 */
export function createAuthenticator(credentials: CallerCredentials): (req: Request) => Promise<Caller> {
  const verify = createJwtVerifier({ secret: credentials.jwtSecret, jwksUrl: credentials.jwksUrl });
  return async (req) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!bearer) throw unauthorized("Send the service role key or an admin JWT as a Bearer token.");
    if (secretsEqual(bearer, credentials.serviceRoleKey)) return { kind: "platform" };
    if (!verify) throw unauthorized("The token is not valid.");
    let claims: Record<string, unknown>;
    try {
      // Every session token Supabase issues expires; one that never does is not accepted.
      claims = await verify(bearer, { requiredClaims: ["exp"] });
    } catch {
      throw unauthorized("The token is invalid or expired.");
    }
    if (claims.role === "service_role") return { kind: "platform" };
    const appMetadata = (claims.app_metadata ?? {}) as Record<string, unknown>;
    if (appMetadata.role !== "admin") {
      return { kind: "refused", reason: "This API needs the service role key or an admin account." };
    }
    const tenantId = appMetadata.tenant_id;
    if (!isUuid(tenantId)) {
      return { kind: "refused", reason: "The admin token names no tenant." };
    }
    return { kind: "tenant", tenantId: tenantId.toLowerCase() };
  };
}

/** The caller if it may use the API; otherwise the 403 it gets, recorded as a security event. */
export function authorized(caller: Caller): AuthorizedCaller {
  if (caller.kind === "refused") throw new HttpError(403, "forbidden", caller.reason, { security: "forbidden" });
  return caller;
}
