import { toBase64 } from "../_shared/bytes.ts";

/**
 * A new Standard Webhooks signing secret: `whsec_` and the base64 of 24 random bytes
 * (192 bits), the form the standardwebhooks libraries partners verify with expect.
 */
export function newSigningSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${toBase64(bytes)}`;
}
