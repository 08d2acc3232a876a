import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** The secrets an endpoint signs with right now. */
export interface SigningSecrets {
  secret: string;
  /** Still valid for 24 h after a rotation: deliveries carry both signatures meanwhile. */
  previousSecret?: string | null;
  /** Also send X-Webhook-Signature (hex HMAC-SHA256 of the raw body) for older receivers. */
  legacySignature?: boolean;
}

/**
 * The Standard Webhooks headers for one delivery, made by the `standardwebhooks` library:
 * `webhook-signature` lists one `v1,<base64>` per valid secret, space-separated, so a
 * receiver holding either the new or the old secret verifies it.
 */
export function signDelivery(
  messageId: string,
  timestamp: Date,
  body: string,
  secrets: SigningSecrets,
): Record<string, string> {
  const keys = [secrets.secret, ...(secrets.previousSecret ? [secrets.previousSecret] : [])];
  const signature = keys.map((key) => new Webhook(key).sign(messageId, timestamp, body)).join(" ");
  const headers: Record<string, string> = {
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "webhook-signature": signature,
  };
  if (secrets.legacySignature) {
    // Keyed with the secret string exactly as shown to the partner, the convention older
    // receivers (GitHub-style `X-Hub-Signature`) already implement.
    headers["x-webhook-signature"] = createHmac("sha256", secrets.secret).update(body).digest("hex");
  }
  return headers;
}
