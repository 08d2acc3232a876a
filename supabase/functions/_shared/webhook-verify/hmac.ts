import { toBase64, toHex } from "../bytes.ts";

/** The HMAC hashes the schemes use. */
export type HmacAlgorithm = "sha1" | "sha256" | "sha512";

const HASHES: Record<HmacAlgorithm, string> = { sha1: "SHA-1", sha256: "SHA-256", sha512: "SHA-512" };

/**
 * HMAC of `message` (UTF-8) with Web Crypto, so the same code runs under Deno and Node; the one
 * HMAC primitive every scheme and signer uses. `key` is the raw key bytes or a UTF-8 string.
 */
export async function hmac(
  algorithm: HmacAlgorithm,
  key: string | Uint8Array,
  message: string,
  encoding: "hex" | "base64",
): Promise<string> {
  const keyBytes = typeof key === "string" ? new TextEncoder().encode(key) : key;
  const cryptoKey = await crypto.subtle.importKey(
    "raw",
    keyBytes as BufferSource,
    { name: "HMAC", hash: HASHES[algorithm] },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(message)));
  return encoding === "hex" ? toHex(mac) : toBase64(mac);
}
