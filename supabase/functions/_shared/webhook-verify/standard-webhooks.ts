import { Webhook } from "standardwebhooks";
import { secretsEqual } from "../secrets-equal.ts";
import { invalidSignature, missingSignature, outsideTolerance, withinTolerance } from "./failures.ts";
import type { Verify, VerifyInput } from "./types.ts";

// Standard Webhooks names its headers webhook-*; Svix (and so Resend) sends the same scheme as svix-*.
const BRANDS = ["webhook", "svix"] as const;

/** The id, timestamp and signature headers of a Standard Webhooks request, under either brand. */
function signedHeaders(headers: Headers): { id: string; timestamp: string; signature: string } | null {
  for (const brand of BRANDS) {
    const id = headers.get(`${brand}-id`);
    const timestamp = headers.get(`${brand}-timestamp`);
    const signature = headers.get(`${brand}-signature`);
    if (id && timestamp && signature) return { id, timestamp, signature };
  }
  return null;
}

/** A secret the scheme can key with (`whsec_` + base64, or bare base64); false for anything else. */
export function isStandardWebhooksSecret(secret: string): boolean {
  try {
    new Webhook(secret);
    return /^(whsec_)?[A-Za-z0-9+/]{16,}={0,2}$/.test(secret);
  } catch {
    return false;
  }
}

/** The `webhook-signature` value (`v1,<base64>`) the `standardwebhooks` library puts on a message. */
export function standardWebhooksSignature(secret: string, id: string, timestamp: number, body: string): string {
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), body);
}

/**
 * Standard Webhooks (also Svix and Resend): `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`,
 * keyed by the base64-decoded secret, computed by the official `standardwebhooks` library. The
 * signature header may carry several space-separated entries (the sender's own rotation); one
 * right entry for one of our secrets is enough. The library checks its fixed 5-minute window
 * before the signature, so the signature is compared here and the age checked after it, against
 * the source's own tolerance: a stale genuine request is a replay, a stale forgery is a forgery.
 * Returns the message id, which the signature covers, so it is the id to dedupe on.
 */
export function standardWebhooksId({ rawBody, headers, secrets, toleranceSeconds, now }: VerifyInput): string {
  const signed = signedHeaders(headers);
  if (!signed) throw missingSignature("webhook-id, webhook-timestamp and webhook-signature (or svix-*)");
  const timestamp = Number(signed.timestamp);
  if (!/^\d{1,12}$/.test(signed.timestamp)) throw invalidSignature("webhook-timestamp");
  const candidates = signed.signature.split(" ");
  for (const secret of secrets) {
    const expected = standardWebhooksSignature(secret, signed.id, timestamp, rawBody);
    if (!candidates.some((candidate) => secretsEqual(candidate, expected))) continue;
    if (!withinTolerance(timestamp, toleranceSeconds, now)) throw outsideTolerance();
    return signed.id;
  }
  throw invalidSignature("webhook-signature");
}

/** {@link standardWebhooksId} as a source's verifier. */
export const verifyStandardWebhooks: Verify = (input) => new Promise((resolve) => resolve(standardWebhooksId(input)));
