import { Resend } from "resend";
import { Webhook } from "standardwebhooks";
import { HttpError } from "../_shared/http/errors.ts";
import { secretsEqual } from "../_shared/secrets-equal.ts";

/** A verified delivery: its Svix message id (the event's unique id) and the parsed body. */
export interface VerifiedDelivery {
  svixId: string;
  payload: unknown;
}

// verify() works offline and never uses the API key, but the constructor insists on one.
const webhooks = new Resend("re_verify_only").webhooks;

/** True when `signature` (space-separated `v1,...` entries) carries the right HMAC, whatever its age. */
function signedWith(secret: string, id: string, timestamp: string, rawBody: string, signature: string): boolean {
  const expected = new Webhook(secret).sign(id, new Date(Number(timestamp) * 1000), rawBody);
  return signature.split(" ").some((candidate) => secretsEqual(candidate, expected));
}

/**
 * Verifies the Svix-style signature with the official SDK (`webhooks.verify`) and returns the
 * parsed event. Several secrets are tried in turn, so during a rotation both are accepted.
 *
 * The SDK (standardwebhooks underneath) checks the timestamp's 5-minute tolerance before the
 * signature, so "timestamp too old/new" alone would also be what a forgery with an old
 * timestamp gets. Such a failure counts as a replay only when the signature itself is right
 * for one of the secrets; otherwise it is an invalid signature, as Stripe's SDK reports it.
 */
export function verifyResendWebhook(rawBody: string, headers: Headers, secrets: string[]): VerifiedDelivery {
  const id = headers.get("svix-id");
  const timestamp = headers.get("svix-timestamp");
  const signature = headers.get("svix-signature");
  if (!id || !timestamp || !signature) {
    throw new HttpError(401, "missing_signature", "The svix-id, -timestamp and -signature headers are required.", {
      security: "signature_failure",
    });
  }
  if (secrets.length === 0) {
    throw new HttpError(500, "not_configured", "RESEND_WEBHOOK_SECRET is not set.");
  }
  let outsideTolerance = false;
  for (const webhookSecret of secrets) {
    try {
      const payload = webhooks.verify({ payload: rawBody, headers: { id, timestamp, signature }, webhookSecret });
      return { svixId: id, payload };
    } catch (error) {
      if (error instanceof SyntaxError) {
        throw new HttpError(400, "invalid_json", "The request body is not valid JSON.", {
          security: "malformed_payload",
        });
      }
      // Anything but a verification failure (a malformed secret) is a fault, not a bad request.
      if ((error as Error).name !== "WebhookVerificationError") throw error;
      if (/^Message timestamp too (old|new)$/.test((error as Error).message)) {
        outsideTolerance ||= signedWith(webhookSecret, id, timestamp, rawBody, signature);
      }
    }
  }
  throw outsideTolerance
    ? new HttpError(401, "timestamp_outside_tolerance", "The signature timestamp is more than 5 minutes off.", {
      security: "replay",
    })
    : new HttpError(401, "invalid_signature", "The svix-signature header does not match the body.", {
      security: "signature_failure",
    });
}
