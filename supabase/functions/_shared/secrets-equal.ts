import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string) => new Uint8Array(createHash("sha256").update(value).digest());

/**
 * Compares a presented credential with the expected one in constant time. Both are hashed
 * first, so neither the content nor the length of the secret leaks through timing.
 */
export function secretsEqual(presented: string | null | undefined, expected: string | null | undefined): boolean {
  if (!presented || !expected) return false;
  return timingSafeEqual(digest(presented), digest(expected));
}
