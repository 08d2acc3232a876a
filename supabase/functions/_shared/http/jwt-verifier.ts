import { createRemoteJWKSet, decodeProtectedHeader, type JWTPayload, jwtVerify } from "jose";

/** What JWTs are checked against: the project's legacy HS256 secret, its JWKS, or both. */
export interface JwtKeys {
  secret?: string;
  /** `https://<ref>.supabase.co/auth/v1/.well-known/jwks.json`: the asymmetric signing keys. */
  jwksUrl?: string;
}

/** Verifies a JWT's signature and expiry; rejects otherwise. */
export type JwtVerifier = (token: string, options?: { requiredClaims?: string[] }) => Promise<JWTPayload>;

// What Supabase's asymmetric signing keys use (ES256 by default, RS256 on request).
const ASYMMETRIC = ["ES256", "RS256", "EdDSA"];

/**
 * A verifier for the project's tokens, or null with nothing to verify against. A project on
 * asymmetric signing keys signs user sessions with a key from its JWKS while the anon and
 * service keys may still be HS256, so both are accepted, each only under its own algorithms
 * (an HS256 token is never checked against a public key). jose fetches the JWKS on first use,
 * caches it, and refetches when a token names a key it does not know.
 */
export function createJwtVerifier(keys: JwtKeys): JwtVerifier | null {
  const secret = keys.secret ? new TextEncoder().encode(keys.secret) : null;
  const jwks = keys.jwksUrl ? createRemoteJWKSet(new URL(keys.jwksUrl)) : null;
  if (!secret && !jwks) return null;
  return async (token, options = {}) => {
    const { alg } = decodeProtectedHeader(token);
    if (alg === "HS256" && secret) {
      return (await jwtVerify(token, secret, { algorithms: ["HS256"], ...options })).payload;
    }
    if (alg !== "HS256" && jwks) {
      return (await jwtVerify(token, jwks, { algorithms: ASYMMETRIC, ...options })).payload;
    }
    throw new Error(`No key to verify a ${alg} token`);
  };
}
