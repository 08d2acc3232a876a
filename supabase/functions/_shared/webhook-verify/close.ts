import { secretsEqual } from "../secrets-equal.ts";
import { invalidSignature, missingSignature, outsideTolerance, withinTolerance } from "./failures.ts";
import { hmac } from "./hmac.ts";
import type { Verify } from "./types.ts";

const [HASH, TIMESTAMP] = ["close-sig-hash", "close-sig-timestamp"];

/** A Close signature key: the hex string Close returns when the webhook subscription is created. */
export const isCloseSecret = (secret: string) => /^([0-9a-f]{2})+$/i.test(secret);

function keyBytes(hexKey: string): Uint8Array {
  return Uint8Array.from(hexKey.match(/../g)!, (pair) => parseInt(pair, 16));
}

/** Close's `close-sig-hash` for `body` at `timestamp`: hex HMAC-SHA256 of timestamp + body, keyed by the hex-decoded key. */
export function closeSignature(body: string, hexKey: string, timestamp: string): Promise<string> {
  return hmac("sha256", keyBytes(hexKey), timestamp + body, "hex");
}

/**
 * Close: `close-sig-hash` over `close-sig-timestamp` followed by the body. The timestamp is
 * signed, so after the signature it must be within the tolerance.
 */
export const verifyClose: Verify = async ({ rawBody, headers, secrets, toleranceSeconds, now }) => {
  const hash = headers.get(HASH);
  const timestamp = headers.get(TIMESTAMP);
  if (!hash || !timestamp) throw missingSignature(`${HASH} and ${TIMESTAMP}`);
  for (const secret of secrets) {
    if (!secretsEqual(hash.toLowerCase(), await closeSignature(rawBody, secret, timestamp))) continue;
    if (!withinTolerance(Number(timestamp), toleranceSeconds, now)) throw outsideTolerance();
    return;
  }
  throw invalidSignature(HASH);
};
