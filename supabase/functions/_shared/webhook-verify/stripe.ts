import Stripe from "stripe";
import { HttpError } from "../http/errors.ts";
import { invalidSignature, missingSignature, outsideTolerance } from "./failures.ts";
import type { Verify } from "./types.ts";

const HEADER = "Stripe-Signature";
const cryptoProvider = Stripe.createSubtleCryptoProvider();

function isSignatureError(error: unknown): error is Error {
  return (error as { type?: string })?.type === "StripeSignatureVerificationError";
}

/**
 * Verifies `Stripe-Signature` with the official SDK (`constructEventAsync`, SubtleCrypto) and
 * returns the parsed event. Several secrets are tried in turn, so during a rotation both the
 * old and the new endpoint secret are accepted. The one Stripe scheme: stripe-webhook and
 * every `stripe` source (a second account, a connected-account endpoint) use it. `now` (Unix
 * seconds) replaces the clock the age is judged by.
 */
export async function verifyStripeEvent(
  rawBody: string,
  header: string | null,
  secrets: string[],
  toleranceSeconds: number,
  now?: number,
): Promise<unknown> {
  if (!header) throw missingSignature(HEADER);
  let replay = false;
  for (const secret of secrets) {
    try {
      return await Stripe.webhooks.constructEventAsync(
        rawBody,
        header,
        secret,
        toleranceSeconds,
        cryptoProvider,
        now === undefined ? undefined : now * 1000,
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
  throw replay ? outsideTolerance() : invalidSignature(HEADER);
}

/** The `Stripe-Signature` header Stripe puts on `body` at `timestamp` (Unix seconds), from the SDK's own signer. */
export function stripeSignature(body: string, secret: string, timestamp: number): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp, cryptoProvider });
}

/** A `stripe` source: Stripe's scheme; the event's own id (`$.id`) is the dedup key. */
export const verifyStripe: Verify = async ({ rawBody, headers, secrets, toleranceSeconds, now }) => {
  const event = await verifyStripeEvent(rawBody, headers.get(HEADER), secrets, toleranceSeconds, now);
  return (event as { id?: string }).id;
};
