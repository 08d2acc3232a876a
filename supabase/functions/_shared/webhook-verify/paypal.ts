import { importX509 } from "jose";
import { z } from "zod";
import { HttpError } from "../http/errors.ts";
import { pinnedRequest } from "../pinned-request.ts";
import { checkWebhookUrl, type Resolver, type UrlPolicy } from "../ssrf.ts";
import { crc32 } from "./crc32.ts";
import { invalidSignature, missingSignature, outsideTolerance, withinTolerance } from "./failures.ts";
import type { Verify } from "./types.ts";

/** A PayPal source's settings: the id PayPal gave the webhook, which every signature covers. */
export const paypalOptions = z.strictObject({ webhook_id: z.string().min(1).max(100) });

const HEADERS = ["paypal-transmission-id", "paypal-transmission-time", "paypal-transmission-sig", "paypal-cert-url"];

/** What PayPal signs: `transmission_id|transmission_time|webhook_id|crc32(body)`, the CRC in unsigned decimal. */
export function paypalMessage(transmissionId: string, transmissionTime: string, webhookId: string, body: string) {
  return `${transmissionId}|${transmissionTime}|${webhookId}|${crc32(body)}`;
}

/** Fetches the signing certificate at a URL already judged acceptable, as the public key to verify with. */
export type CertificateLoader = (url: URL) => Promise<CryptoKey>;

/** Where PayPal certificates may come from, and how they are fetched. */
export interface PaypalCertificateOptions {
  /** Hosts accepted besides paypal.com and its subdomains (tests and local development only). */
  extraHosts: string[];
  /** The SSRF guard's policy for the fetch. */
  policy: UrlPolicy;
  resolve?: Resolver;
  /** How long a fetched certificate is reused: PayPal rotates them rarely, and each fetch costs a round trip. */
  cacheSeconds?: number;
  /** How the certificate is fetched from the checked addresses; pinnedRequest by default, a fake in unit tests. */
  get?: (url: URL, addresses: string[]) => Promise<{ status: number; body: string }>;
}

// A certificate is a few KB; 64 KB is room for a chain, and a bound on what a hostile host can make us read.
const CERT_LIMITS = { timeoutMs: 5000, bodyBytes: 64 * 1024 };

const badCertUrl = (message: string) => new HttpError(401, "invalid_cert_url", message, { security: "ssrf_blocked" });

/** True for https URLs on paypal.com or a subdomain, or on one of `extraHosts` (any scheme). */
function acceptableCertUrl(url: URL, extraHosts: string[]): boolean {
  if (extraHosts.includes(url.hostname)) return true;
  return url.protocol === "https:" && (url.hostname === "paypal.com" || url.hostname.endsWith(".paypal.com"));
}

/**
 * The certificate loader PayPal verification uses: refuses URLs outside paypal.com (the
 * certificate URL arrives in the request, so anyone could name their own), fetches through
 * the SSRF guard (and from the very address it checked) with redirects refused, and caches each
 * certificate's key by URL.
 */
export function paypalCertificates(options: PaypalCertificateOptions): (raw: string) => Promise<CryptoKey> {
  const cache = new Map<string, { key: Promise<CryptoKey>; until: number }>();
  const ttlMs = (options.cacheSeconds ?? 3600) * 1000;
  const get = options.get ??
    ((url: URL, addresses: string[]) => pinnedRequest("GET", url, addresses, {}, null, CERT_LIMITS));
  const load: CertificateLoader = async (url) => {
    const check = await checkWebhookUrl(url.href, options.policy, options.resolve);
    if (!check.ok) throw badCertUrl(`The paypal-cert-url cannot be fetched: ${check.reason}`);
    // From the address the guard checked, with no second lookup (see pinnedRequest).
    const answer = await get(check.url, check.addresses);
    if (answer.status !== 200) throw new Error(`fetching the PayPal certificate answered ${answer.status}`);
    return importX509(answer.body.trim(), "RS256");
  };
  return (raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return Promise.reject(badCertUrl("The paypal-cert-url is not a URL."));
    }
    if (!acceptableCertUrl(url, options.extraHosts)) {
      return Promise.reject(badCertUrl("The paypal-cert-url must be an https URL on paypal.com."));
    }
    const cached = cache.get(url.href);
    if (cached && cached.until > Date.now()) return cached.key;
    const key = load(url);
    cache.set(url.href, { key, until: Date.now() + ttlMs });
    key.catch(() => cache.delete(url.href));
    return key;
  };
}

const fromBase64 = (text: string) => Uint8Array.from(atob(text), (char) => char.charCodeAt(0));

/**
 * PayPal, verified offline: RSA-SHA256 (`paypal-auth-algo: SHA256withRSA`) over
 * {@link paypalMessage}, checked with the certificate at `paypal-cert-url`. The transmission
 * time is signed, so it must be within the tolerance. PayPal keeps no shared secret; the
 * webhook id in the source's options is what ties a signature to this source.
 */
export function verifyPaypal(certificateFor: (url: string) => Promise<CryptoKey>): Verify {
  return async ({ rawBody, headers, options, toleranceSeconds, now }) => {
    const { webhook_id: webhookId } = paypalOptions.parse(options);
    const [id, time, signature, certUrl] = HEADERS.map((name) => headers.get(name));
    if (!id || !time || !signature || !certUrl) throw missingSignature(HEADERS.join(", "));
    const algorithm = headers.get("paypal-auth-algo");
    if (algorithm && algorithm !== "SHA256withRSA") throw invalidSignature("paypal-auth-algo");
    const key = await certificateFor(certUrl);
    let bytes: Uint8Array;
    try {
      bytes = fromBase64(signature);
    } catch {
      throw invalidSignature("paypal-transmission-sig");
    }
    const message = new TextEncoder().encode(paypalMessage(id, time, webhookId, rawBody));
    const valid = await crypto.subtle.verify("RSASSA-PKCS1-v1_5", key, bytes as BufferSource, message);
    if (!valid) throw invalidSignature("paypal-transmission-sig");
    if (!withinTolerance(Date.parse(time) / 1000, toleranceSeconds, now)) throw outsideTolerance();
  };
}
