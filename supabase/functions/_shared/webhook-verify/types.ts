/** Every verification scheme a source can use; `webhook_sources.verifier` accepts exactly these. */
export const VERIFIER_KINDS = [
  "standard-webhooks",
  "stripe",
  "github",
  "shopify",
  "close",
  "twilio",
  "paypal",
  "hmac",
  "basic",
  "api-key",
  "none",
] as const;

/** One verification scheme (see {@link VERIFIER_KINDS}). */
export type VerifierKind = (typeof VERIFIER_KINDS)[number];

/** What a verifier checks one request against. */
export interface VerifyInput {
  /** The body exactly as received: signatures cover these bytes, never a re-serialization. */
  rawBody: string;
  headers: Headers;
  /**
   * The URL the provider called, as the provider saw it (the public base URL, not the one the
   * function sees behind the gateway); Twilio signs it, and api-key may read its query.
   */
  url: URL;
  /** Every secret in force: the current one first, then one a rotation replaced, while it lasts. */
  secrets: string[];
  /** The source's `verifier_options`, already validated for this kind. */
  options: Record<string, unknown>;
  /** How far a signed timestamp may be from now, where the scheme carries one. */
  toleranceSeconds: number;
  /** Unix seconds; the clock, injectable for tests. */
  now?: number;
}

/**
 * Checks one request; resolves when it is authentic, to the event id the signature covers
 * where the scheme signs one (so the dedup key cannot be forged), and throws a 401 HttpError
 * (with a security kind) when it is not.
 */
export type Verify = (input: VerifyInput) => Promise<string | void>;

/** A request signed as the provider signs it, for samples (`POST .../test`, `npm run trigger`). */
export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}
