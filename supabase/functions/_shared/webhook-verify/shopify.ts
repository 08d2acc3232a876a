import { secretsEqual } from "../secrets-equal.ts";
import { invalidSignature, missingSignature } from "./failures.ts";
import { hmac } from "./hmac.ts";
import type { Verify } from "./types.ts";

const HEADER = "X-Shopify-Hmac-SHA256";

/** Shopify's signature header value for `body`: the base64 HMAC-SHA256 keyed by the app's client secret. */
export function shopifySignature(body: string, secret: string): Promise<string> {
  return hmac("sha256", secret, body, "base64");
}

/**
 * Shopify: `X-Shopify-Hmac-SHA256` over the raw body. Shopify signs no timestamp; a retry
 * carries the same `X-Shopify-Webhook-Id`, which is what dedupes it.
 */
export const verifyShopify: Verify = async ({ rawBody, headers, secrets }) => {
  const header = headers.get(HEADER);
  if (!header) throw missingSignature(HEADER);
  for (const secret of secrets) {
    if (secretsEqual(header, await shopifySignature(rawBody, secret))) return;
  }
  throw invalidSignature(HEADER);
};
