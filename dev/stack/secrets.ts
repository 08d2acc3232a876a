import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { SignJWT } from "jose";

/** The local stack's secrets, generated once per checkout so no well-known key is ever valid. */
export interface LocalSecrets {
  jwtSecret: string;
  stripeWebhookSecret: string;
  resendWebhookSecret: string;
  resendApiKey: string;
  emailWakeupSecret: string;
  webhookWakeupSecret: string;
  inboundWakeupSecret: string;
}

const whsec = () => `whsec_${randomBytes(24).toString("base64")}`;

/**
 * Reads `file`, adding any secret a newer version of the stack needs, or creates it with
 * fresh random secrets (mode 0600). Existing values are never changed.
 */
export function loadOrCreateSecrets(file: string): LocalSecrets {
  const existing = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<LocalSecrets>) : {};
  const secrets: LocalSecrets = {
    jwtSecret: randomBytes(32).toString("base64url"),
    stripeWebhookSecret: whsec(),
    resendWebhookSecret: whsec(),
    resendApiKey: `re_local_${randomBytes(18).toString("base64url")}`,
    emailWakeupSecret: randomBytes(24).toString("base64url"),
    webhookWakeupSecret: randomBytes(24).toString("base64url"),
    inboundWakeupSecret: randomBytes(24).toString("base64url"),
    ...existing,
  };
  if (Object.keys(existing).length !== Object.keys(secrets).length) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2) + "\n", { mode: 0o600 });
  }
  return secrets;
}

/** A Supabase-style API key: an HS256 JWT with a `role` claim, valid for ten years. */
export function signRoleKey(jwtSecret: string, role: "anon" | "service_role"): Promise<string> {
  return new SignJWT({ role })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("supabase-local")
    .setIssuedAt()
    .setExpirationTime("3650d")
    .sign(new TextEncoder().encode(jwtSecret));
}
