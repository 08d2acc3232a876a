import { toBase64 } from "./bytes.ts";

/**
 * A new Standard Webhooks signing secret: `whsec_` and the base64 of 24 random bytes
 * (192 bits), the form the standardwebhooks libraries partners verify with expect.
 */
export function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${toBase64(bytes)}`;
}

/** A new random secret for a scheme that takes any string (HMAC keys, API keys, passwords): 256 bits, base64url. */
export function newRandomSecret(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32))).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
