import { sha256Hex } from "../bytes.ts";
import { secretsEqual } from "../secrets-equal.ts";
import { invalidSignature, missingSignature } from "./failures.ts";
import { hmac } from "./hmac.ts";
import type { Verify } from "./types.ts";

const HEADER = "X-Twilio-Signature";

const isForm = (headers: Headers) =>
  headers.get("content-type")?.split(";")[0].trim().toLowerCase() === "application/x-www-form-urlencoded";

/**
 * What Twilio signs: the URL it called, then for a form post every parameter's name and value,
 * sorted by name. A JSON body is not signed as parameters: its SHA-256 travels in the URL's
 * `bodySHA256` parameter, which the URL's signature covers.
 */
function signedText(url: string, rawBody: string, form: boolean): string {
  if (!form) return url;
  const params = [...new URLSearchParams(rawBody)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return url + params.map(([name, value]) => name + value).join("");
}

/** Twilio's `X-Twilio-Signature` for a request to `url`: base64 HMAC-SHA1 keyed by the auth token. */
export function twilioSignature(url: string, rawBody: string, authToken: string, form: boolean): Promise<string> {
  return hmac("sha1", authToken, signedText(url, rawBody, form), "base64");
}

/**
 * Twilio: `X-Twilio-Signature` over the full public URL (see VerifyInput.url: behind the
 * gateway the function sees another one) plus the sorted POST parameters. Twilio signs no
 * timestamp; its `I-Twilio-Idempotency-Token` is what dedupes a retry.
 */
export const verifyTwilio: Verify = async ({ rawBody, headers, url, secrets }) => {
  const header = headers.get(HEADER);
  if (!header) throw missingSignature(HEADER);
  const form = isForm(headers);
  if (!form && url.searchParams.get("bodySHA256")?.toLowerCase() !== await sha256Hex(rawBody)) {
    throw invalidSignature(`${HEADER} (bodySHA256)`);
  }
  for (const secret of secrets) {
    if (secretsEqual(header, await twilioSignature(url.href, rawBody, secret, form))) return;
  }
  throw invalidSignature(HEADER);
};
