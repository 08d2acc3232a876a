import { secretsEqual } from "../secrets-equal.ts";
import { invalidSignature, missingSignature } from "./failures.ts";
import { hmac } from "./hmac.ts";
import type { Verify } from "./types.ts";

const HEADER = "X-Hub-Signature-256";

/** GitHub's signature header value for `body`: `sha256=` and the hex HMAC-SHA256 keyed by the secret. */
export async function githubSignature(body: string, secret: string): Promise<string> {
  return `sha256=${await hmac("sha256", secret, body, "hex")}`;
}

/**
 * GitHub: `X-Hub-Signature-256` over the body. GitHub signs no timestamp, so no tolerance
 * applies; its delivery id (`X-GitHub-Delivery`) is what dedupes a redelivery.
 */
export const verifyGithub: Verify = async ({ rawBody, headers, secrets }) => {
  const header = headers.get(HEADER);
  if (!header) throw missingSignature(HEADER);
  if (!/^sha256=[0-9a-f]{64}$/i.test(header)) throw invalidSignature(HEADER);
  for (const secret of secrets) {
    if (secretsEqual(header.toLowerCase(), await githubSignature(rawBody, secret))) return;
  }
  throw invalidSignature(HEADER);
};
