import { decodeJwt } from "jose";
import { HttpError } from "./errors.ts";
import { createJwtVerifier, type JwtKeys } from "./jwt-verifier.ts";
import { isUuid } from "../uuid.ts";

/** A browser caller: the anon key, a signed-in user's session token, or the service role. */
export interface BrowserCaller {
  role: "anon" | "authenticated" | "service_role";
  /** The signed-in user (`sub`), null for the anon key and the service role. */
  userId: string | null;
}

const unauthorized = (message: string) => new HttpError(401, "unauthorized", message, { security: "auth_failure" });

/**
 * Reads the caller from `Authorization: Bearer <jwt>`. With the project's secret or JWKS the
 * token is verified here too; with neither the function relies on the gateway, which verifies
 * it because config.toml sets `verify_jwt = true`. The user id comes only from the token, never
 * from the body, so a page cannot attribute events to someone else.
 */
export function createBrowserAuthenticator(keys: JwtKeys): (req: Request) => Promise<BrowserCaller> {
  const verify = createJwtVerifier(keys);
  return async (req) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.get("authorization") ?? "")?.[1];
    if (!bearer) throw unauthorized("Send the anon key or the user's session token as a Bearer token.");
    let claims: Record<string, unknown>;
    try {
      claims = verify ? await verify(bearer) : decodeJwt(bearer);
    } catch {
      throw unauthorized("The token is invalid or expired.");
    }
    if (claims.role === "anon" || claims.role === "service_role") return { role: claims.role, userId: null };
    if (claims.role === "authenticated" && isUuid(claims.sub)) {
      return { role: "authenticated", userId: claims.sub.toLowerCase() };
    }
    throw unauthorized("The token's role may not call this function.");
  };
}
