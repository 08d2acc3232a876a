import Stripe from "stripe";
import { HttpError } from "../_shared/http/errors.ts";

/** Stripe's default, and the issue's: a signed event older than 5 minutes is a replay. */
export const STRIPE_TOLERANCE_SECONDS = 300;

const cryptoProvider = Stripe.createSubtleCryptoProvider();

function isSignatureError(error: unknown): error is Error {
  return (error as { type?: string })?.type === "StripeSignatureVerificationError";
}

/**
 * Verifies `Stripe-Signature` with the official SDK (`constructEventAsync`, SubtleCrypto) and
 * returns the parsed event. Several secrets are tried in turn, so during a rotation both the
 * old and the new endpoint secret are accepted.
 */
export async function verifyStripeEvent(rawBody: string, header: string | null, secrets: string[]): Promise<unknown> {
  if (!header) {
    throw new HttpError(401, "missing_signature", "The Stripe-Signature header is required.", {
      security: "signature_failure",
    });
  }
  if (secrets.length === 0) {
    throw new HttpError(500, "not_configured", "STRIPE_WEBHOOK_SECRET is not set.");
  }
  let replay = false;
  for (const secret of secrets) {
    try {
      return await Stripe.webhooks.constructEventAsync(
        rawBody,
        header,
        secret,
        STRIPE_TOLERANCE_SECONDS,
        cryptoProvider,
      );
    } catch (error) {
      if (isSignatureError(error)) {
        // The SDK compares the signature before the age, so this error means a valid
        // signature on an old timestamp: a replay, not a wrong secret.
        replay ||= /tolerance/i.test(error.message);
        continue;
      }
      if (error instanceof SyntaxError) {
        throw new HttpError(400, "invalid_json", "The request body is not valid JSON.", {
          security: "malformed_payload",
        });
      }
      if (/thin event/i.test((error as Error).message)) {
        throw new HttpError(
          400,
          "thin_event_unsupported",
          "This endpoint takes snapshot events. Thin events (v2.core.event) go to an event " +
            "destination with the thin payload style, which this function does not serve.",
        );
      }
      throw error;
    }
  }
  throw replay
    ? new HttpError(401, "timestamp_outside_tolerance", "The signature timestamp is too old.", { security: "replay" })
    : new HttpError(401, "invalid_signature", "The Stripe-Signature header does not match the body.", {
      security: "signature_failure",
    });
}
