import { createHash, createHmac, randomBytes } from "node:crypto";
import { crc32 as zlibCrc32 } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { serveTestCertificate, TEST_CERTIFICATE, testSigningKey } from "../../dev/paypal/test-certificate.ts";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import { closeSignature, verifyClose } from "../../supabase/functions/_shared/webhook-verify/close.ts";
import { crc32 } from "../../supabase/functions/_shared/webhook-verify/crc32.ts";
import {
  type PaypalCertificateOptions,
  paypalCertificates,
  paypalMessage,
} from "../../supabase/functions/_shared/webhook-verify/paypal.ts";
import { signedSample } from "../../supabase/functions/_shared/webhook-verify/samples.ts";
import { SCHEMES } from "../../supabase/functions/_shared/webhook-verify/schemes.ts";
import { shopifySignature } from "../../supabase/functions/_shared/webhook-verify/shopify.ts";
import { twilioSignature, verifyTwilio } from "../../supabase/functions/_shared/webhook-verify/twilio.ts";
import {
  type SignedRequest,
  VERIFIER_KINDS,
  type VerifierKind,
  type VerifyInput,
} from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { createVerifiers } from "../../supabase/functions/_shared/webhook-verify/verifiers.ts";

type Kind = Exclude<VerifierKind, "none">;
interface Case {
  label: string;
  kind: Kind;
  options: Record<string, unknown>;
  secret(): string | null;
}

const SOURCE_URL = "https://project.supabase.co/functions/v1/inbound-webhook/src_1";
const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const generated = (kind: Kind) => () => SCHEMES[kind].newSecret();

const CASES: Case[] = [
  { label: "standard-webhooks", kind: "standard-webhooks", options: {}, secret: generated("standard-webhooks") },
  { label: "stripe", kind: "stripe", options: {}, secret: () => `whsec_${hex(16)}` },
  { label: "github", kind: "github", options: {}, secret: generated("github") },
  { label: "shopify", kind: "shopify", options: {}, secret: () => `shpss_${hex(16)}` },
  { label: "close", kind: "close", options: {}, secret: () => hex(32) },
  { label: "twilio", kind: "twilio", options: {}, secret: () => hex(16) },
  { label: "paypal", kind: "paypal", options: { webhook_id: "WH-TEST" }, secret: () => null },
  { label: "hmac", kind: "hmac", options: {}, secret: generated("hmac") },
  {
    label: "hmac (timestamp, sha512, base64, prefix)",
    kind: "hmac",
    options: { timestamp_header: "x-timestamp", algorithm: "sha512", encoding: "base64", prefix: "v1=" },
    secret: generated("hmac"),
  },
  { label: "basic", kind: "basic", options: { username: "shop" }, secret: generated("basic") },
  { label: "api-key (header)", kind: "api-key", options: {}, secret: generated("api-key") },
  { label: "api-key (query)", kind: "api-key", options: { query: "key" }, secret: generated("api-key") },
];

// The header that carries each scheme's signature or credential.
const SIGNATURE_HEADER: Record<Kind, string> = {
  "standard-webhooks": "webhook-signature",
  stripe: "stripe-signature",
  github: "x-hub-signature-256",
  shopify: "x-shopify-hmac-sha256",
  close: "close-sig-hash",
  twilio: "x-twilio-signature",
  paypal: "paypal-transmission-sig",
  hmac: "x-signature",
  basic: "authorization",
  "api-key": "x-api-key",
};

const credentials = (c: Case) => c.kind === "basic" || c.kind === "api-key";
// A generic HMAC source signs a timestamp only when it names a timestamp header.
const timestamped = (c: Case) => SCHEMES[c.kind].timestamped && (c.kind !== "hmac" || "timestamp_header" in c.options);
const withSecrets = (c: Case) => c.kind !== "paypal";

/** The 401 code a verification refused with, or "accepted"; anything but a 401 HttpError fails the test. */
async function outcome(run: () => unknown): Promise<string> {
  try {
    await run();
    return "accepted";
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) return error.code;
    throw error;
  }
}

let server: Awaited<ReturnType<typeof serveTestCertificate>>;
let privateKey: CryptoKey;
const local: PaypalCertificateOptions = {
  extraHosts: ["127.0.0.1"],
  policy: { allowHttp: true, allowedHosts: ["127.0.0.1"] },
};
const verifiers = createVerifiers({ paypalCertificate: paypalCertificates(local) });

beforeAll(async () => {
  [server, privateKey] = await Promise.all([serveTestCertificate(), testSigningKey()]);
});
afterAll(() => server.close());
afterEach(() => vi.restoreAllMocks());

const sample = (c: Case, secret: string | null, now?: number, certUrl = server.url) =>
  signedSample({ kind: c.kind, secret, options: c.options, url: SOURCE_URL, now, paypal: { privateKey, certUrl } });

const input = (
  request: SignedRequest,
  secrets: string[],
  options: Record<string, unknown>,
  now?: number,
): VerifyInput => ({
  rawBody: request.body,
  headers: new Headers(request.headers),
  url: new URL(request.url),
  secrets,
  options,
  toleranceSeconds: 300,
  now,
});

const secretsOf = (secret: string | null) => (secret === null ? [] : [secret]);
const verify = (c: Case, request: SignedRequest, secrets: string[], now?: number, options = c.options) =>
  outcome(() => verifiers[c.kind](input(request, secrets, options, now)));
const clock = () => Math.floor(Date.now() / 1000);

describe("every scheme, on the provider's own request", () => {
  it("covers every kind but none", () => {
    expect(new Set(CASES.map((c) => c.kind))).toEqual(new Set(VERIFIER_KINDS.filter((kind) => kind !== "none")));
  });

  it.each(CASES)("$label: accepts a valid signature", async (c) => {
    const secret = c.secret();
    expect(await verify(c, await sample(c, secret), secretsOf(secret))).toBe("accepted");
  });

  it.each(CASES)("$label: refuses a wrong secret", async (c) => {
    const request = await sample(c, c.secret());
    // PayPal has no shared secret: what ties a signature to a source is the webhook id it covers.
    const result = c.kind === "paypal"
      ? await verify(c, request, [], undefined, { webhook_id: "WH-OTHER" })
      : await verify(c, request, [c.secret()!]);
    expect(result).toBe(credentials(c) ? "invalid_credentials" : "invalid_signature");
  });

  it.each(CASES.filter((c) => !credentials(c)))("$label: refuses a tampered body", async (c) => {
    const secret = c.secret();
    const request = await sample(c, secret);
    const body = c.kind === "twilio" ? `${request.body}&Body=Refund+me` : `${request.body} `;
    expect(await verify(c, { ...request, body }, secretsOf(secret))).toBe("invalid_signature");
  });

  it.each(CASES.filter(timestamped))(
    "$label: refuses a signature 10 minutes old, accepts one within tolerance",
    async (c) => {
      const secret = c.secret();
      const now = clock();
      expect(await verify(c, await sample(c, secret, now - 600), secretsOf(secret), now)).toBe(
        "timestamp_outside_tolerance",
      );
      expect(await verify(c, await sample(c, secret, now - 120), secretsOf(secret), now)).toBe("accepted");
    },
  );

  it.each(CASES.filter(timestamped))("$label: judges the age by the injected clock", async (c) => {
    const secret = c.secret();
    const then = 1_700_000_000; // November 2023: far outside any tolerance of the real clock.
    expect(await verify(c, await sample(c, secret, then), secretsOf(secret), then + 60)).toBe("accepted");
  });

  it.each(CASES.filter(withSecrets))("$label: accepts the secret a rotation replaced", async (c) => {
    const [newSecret, oldSecret] = [c.secret()!, c.secret()!];
    const request = await sample(c, oldSecret);
    expect(await verify(c, request, [newSecret, oldSecret])).toBe("accepted");
    expect(await verify(c, request, [newSecret])).not.toBe("accepted");
  });

  it.each(CASES)("$label: answers a missing signature", async (c) => {
    const secret = c.secret();
    const request = await sample(c, secret);
    let stripped: SignedRequest;
    if ("query" in c.options) {
      const url = new URL(request.url);
      expect(url.searchParams.has("key")).toBe(true);
      url.searchParams.delete("key");
      stripped = { ...request, url: url.href };
    } else {
      const { [SIGNATURE_HEADER[c.kind]]: removed, ...headers } = request.headers;
      expect(removed).toBeTruthy();
      stripped = { ...request, headers };
    }
    expect(await verify(c, stripped, secretsOf(secret))).toBe(
      credentials(c) ? "missing_credentials" : "missing_signature",
    );
  });

  it.each(["standard-webhooks", "stripe"] as const)("%s: resolves to the id the signature covers", async (kind) => {
    const c = CASES.find((x) => x.kind === kind)!;
    const secret = c.secret()!;
    const request = await sample(c, secret);
    const id = kind === "stripe" ? JSON.parse(request.body).id : request.headers["webhook-id"];
    expect(id).toBeTruthy();
    expect(await verifiers[kind](input(request, [secret], {}))).toBe(id);
  });
});

describe("paypal certificates", () => {
  const paypal = CASES.find((c) => c.kind === "paypal")!;
  let pending: SignedRequest;
  beforeAll(async () => {
    pending = await sample(paypal, null);
  });

  it("refuses a signature made with another key", async () => {
    const other = await crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    const request = await signedSample({
      kind: "paypal",
      secret: null,
      options: paypal.options,
      url: SOURCE_URL,
      paypal: { privateKey: other.privateKey, certUrl: server.url },
    });
    expect(await verify(paypal, request, [])).toBe("invalid_signature");
  });

  // Every guard but the host check let through: any host resolves to a public address, http is
  // allowed, and the fetch answers with the test certificate; so only the host check can refuse.
  function permissive() {
    const fetchSpy = vi.fn((_url: URL, _addresses: string[]) => Promise.resolve({ status: 200, body: TEST_CERTIFICATE }));
    const paypalCertificate = paypalCertificates({
      extraHosts: [],
      policy: { allowHttp: true, allowedHosts: [] },
      resolve: () => Promise.resolve(["93.184.216.34"]),
      get: fetchSpy,
    });
    return { fetchSpy, check: createVerifiers({ paypalCertificate }) };
  }
  // The certificate URL is not signed, so the same request may name another one.
  const naming = (certUrl: string) => ({ ...pending, headers: { ...pending.headers, "paypal-cert-url": certUrl } });

  it.each([
    "https://evil.example/cert.pem",
    "https://paypal.com.evil.example/cert.pem",
    "https://api.paypal.com.evil.example/cert.pem",
    "https://evilpaypal.com/cert.pem",
    "http://api.paypal.com/v1/notifications/certs/CERT-1",
    "not a url",
  ])("refuses the certificate URL %s without fetching it", async (certUrl) => {
    const { fetchSpy, check } = permissive();
    expect(await outcome(() => check.paypal(input(naming(certUrl), [], paypal.options)))).toBe("invalid_cert_url");
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it.each([
    "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-test",
    "https://paypal.com/cert.pem",
  ])("fetches a certificate at %s", async (certUrl) => {
    const { fetchSpy, check } = permissive();
    expect(await outcome(() => check.paypal(input(naming(certUrl), [], paypal.options)))).toBe("accepted");
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    // From the very address the guard resolved and checked: no second lookup.
    expect(fetchSpy.mock.calls[0].map(String)).toEqual([certUrl, "93.184.216.34"]);
  });

  it("fetches the certificate once for two verifications", async () => {
    const check = createVerifiers({ paypalCertificate: paypalCertificates(local) });
    const before = server.requests();
    for (let i = 0; i < 2; i++) {
      expect(await outcome(() => check.paypal(input(pending, [], paypal.options)))).toBe("accepted");
    }
    expect(server.requests() - before).toBe(1);
  });
});

describe("twilio", () => {
  const token = hex(16);
  const body = JSON.stringify({ MessageSid: "SM1", MessageStatus: "delivered" });
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  const json = (url: string, body: string, signature: string) =>
    input({ url, body, headers: { "content-type": "application/json", "x-twilio-signature": signature } }, [token], {});

  it("signs form samples as forms", async () => {
    const request = await sample(CASES.find((c) => c.kind === "twilio")!, token);
    expect(request.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(await outcome(() => verifyTwilio(input(request, [token], {})))).toBe("accepted");
  });

  it("accepts a JSON body whose SHA-256 the signed URL carries", async () => {
    const url = `${SOURCE_URL}?bodySHA256=${sha256(body)}`;
    expect(await outcome(() => verifyTwilio(json(url, body, "")))).toBe("missing_signature");
    const signature = await twilioSignature(url, body, token, false);
    expect(await outcome(() => verifyTwilio(json(url, body, signature)))).toBe("accepted");
  });

  it("refuses a JSON body that differs from bodySHA256, or a bodySHA256 the signature does not cover", async () => {
    const url = `${SOURCE_URL}?bodySHA256=${sha256(body)}`;
    const signature = await twilioSignature(url, body, token, false);
    const other = body.replace("delivered", "failed");
    expect(await outcome(() => verifyTwilio(json(url, other, signature)))).toBe("invalid_signature");
    const rewritten = `${SOURCE_URL}?bodySHA256=${sha256(other)}`;
    expect(await outcome(() => verifyTwilio(json(rewritten, other, signature)))).toBe("invalid_signature");
  });
});

describe("documentation vectors", () => {
  it("accepts Twilio's documented example", async () => {
    const params = {
      CallSid: "CA1234567890ABCDE",
      Caller: "+12349013030",
      Digits: "1234",
      From: "+12349013030",
      To: "+18005551212",
    };
    const headers = {
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": "0/KCTR6DLpKmkAf8muzZqo1nDgQ=",
    };
    const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const request = input({ url, headers, body: new URLSearchParams(params).toString() }, ["12345"], {});
    expect(await outcome(() => verifyTwilio(request))).toBe("accepted");
    expect(await outcome(() => verifyTwilio({ ...request, secrets: ["54321"] }))).toBe("invalid_signature");
  });

  it("signs Close requests as an independent HMAC does", async () => {
    const key = hex(32);
    const [timestamp, body] = ["1700000000", JSON.stringify({ event: { id: "ev_1", note: "café ☕" } })];
    const expected = createHmac("sha256", Buffer.from(key, "hex")).update(timestamp + body).digest("hex");
    expect(await closeSignature(body, key, timestamp)).toBe(expected);
    const headers = { "close-sig-hash": expected, "close-sig-timestamp": timestamp };
    const request = input({ url: SOURCE_URL, headers, body }, [key], {}, 1_700_000_010);
    expect(await outcome(() => verifyClose(request))).toBe("accepted");
  });

  it("signs Shopify requests as an independent HMAC does", async () => {
    const [secret, body] = [hex(16), JSON.stringify({ id: 1, title: "café ☕" })];
    expect(await shopifySignature(body, secret)).toBe(createHmac("sha256", secret).update(body).digest("base64"));
  });

  it("computes PayPal's CRC32 and signed message", () => {
    expect(crc32("The quick brown fox jumps over the lazy dog")).toBe(0x414fa339);
    expect(crc32("The quick brown fox jumps over the lazy dog")).toBe(1095738169);
    expect(crc32("")).toBe(0);
    expect(paypalMessage("a", "b", "c", "")).toBe("a|b|c|0");
    const body = JSON.stringify({ id: "WH-1", summary: "Paiement reçu ☕" });
    expect(crc32(body)).toBe(zlibCrc32(body));
    expect(paypalMessage("id", "2025-01-01T00:00:00Z", "WH-1", body)).toBe(
      `id|2025-01-01T00:00:00Z|WH-1|${zlibCrc32(body)}`,
    );
  });
});
