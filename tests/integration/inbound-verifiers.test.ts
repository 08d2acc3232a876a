import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveTestCertificate, testSigningKey } from "../../dev/paypal/test-certificate.ts";
import { SCHEMES } from "../../supabase/functions/_shared/webhook-verify/schemes.ts";
import type { VerifierKind } from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { type CreatedSource, createSource, sampleFor, send, sourcesApi } from "../helpers/sources.ts";
import { testSql } from "../helpers/stack.ts";

// Every verifier against the real stack: a source created through the API, requests signed
// exactly as its provider signs them (samples.ts), through the gateway to inbound-webhook.
const sql = testSql();
const created: string[] = [];
let certificate: Awaited<ReturnType<typeof serveTestCertificate>>;
let paypalKey: CryptoKey;

beforeAll(async () => {
  certificate = await serveTestCertificate();
  paypalKey = await testSigningKey();
});

afterAll(async () => {
  await sql`delete from public.webhook_sources where id = any(${created}::uuid[])`;
  await certificate.close();
});

const hex = (bytes: number) => randomBytes(bytes).toString("hex");

/** A secret of the kind the provider's dashboard would issue, for schemes that take one from it. */
function providerSecret(kind: VerifierKind): string | undefined {
  if (kind === "stripe") return `whsec_${randomBytes(24).toString("base64")}`;
  if (kind === "close") return hex(32);
  if (kind === "shopify" || kind === "twilio") return hex(16);
  return undefined;
}

const OPTIONS: Partial<Record<VerifierKind, Record<string, unknown>>> = {
  paypal: { webhook_id: "WH-TEST-4JH4" },
  basic: { username: "shop" },
  hmac: { timestamp_header: "x-timestamp", algorithm: "sha512", encoding: "base64", prefix: "v1=" },
};

async function newSource(kind: VerifierKind, secret = providerSecret(kind)): Promise<CreatedSource> {
  const source = await createSource({ name: `${kind} test`, verifier: kind, secret, verifier_options: OPTIONS[kind] });
  created.push(source.id);
  return source;
}

const sample = (source: CreatedSource, overrides: Parameters<typeof sampleFor>[1] = {}) =>
  sampleFor(source, { paypal: { privateKey: paypalKey, certUrl: certificate.url }, ...overrides });

const KINDS = (Object.keys(SCHEMES) as VerifierKind[]).filter((kind) => kind !== "none");
// basic and api-key authenticate the caller, not the body: a changed body is still theirs.
const SIGNS_BODY = KINDS.filter((kind) => kind !== "basic" && kind !== "api-key");
const TIMESTAMPED = KINDS.filter((kind) => SCHEMES[kind].timestamped);

async function securityEvents(requestId: string) {
  // A burst of refusals may also raise a security_alert under the same request id; that is not the refusal's own event.
  return await sql<{ kind: string }[]>`
    select kind from public.security_events where request_id = ${requestId} and kind <> 'security_alert'`;
}

describe.each(KINDS)("a %s source", (kind) => {
  let source: CreatedSource;
  const supplied = providerSecret(kind);
  beforeAll(async () => {
    source = await newSource(kind, supplied);
  });

  it("shows the secret once: the provider's, or one generated for it", async () => {
    if (SCHEMES[kind].secret === "none") expect(source.secret).toBeNull();
    else if (supplied) expect(source.secret).toBe(supplied);
    else expect(source.secret).toMatch(/^\S{20,}$/);
    const shown = await sourcesApi("GET", `/${source.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body).not.toHaveProperty("secret");
    expect(shown.body.url).toMatch(new RegExp(`/functions/v1/inbound-webhook/${source.id}$`));
  });

  it("records a request signed as the provider signs it, once", async () => {
    const request = await sample(source);
    const first = await send(request);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body).toMatchObject({ received: true, status: "processed", outcome: "stored", duplicate: false });
    const again = await send(request);
    expect(again.body).toMatchObject({ id: first.body.id, duplicate: true });
    const rows = await sql`
      select event_id, event_type, status from public.webhook_events where source_id = ${source.id}`;
    expect(rows).toEqual([{ event_id: first.body.id, event_type: request.type, status: "processed" }]);
  });

  it("refuses a request signed with another secret, as a security event", async () => {
    const other = kind === "paypal"
      ? { options: { webhook_id: "WH-SOMEONE-ELSE" } }
      : { secret: kind === "standard-webhooks" ? `whsec_${randomBytes(24).toString("base64")}` : hex(32) };
    const answer = await send(await sample(source, other));
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toMatch(/^invalid_(signature|credentials)$/);
    expect((await securityEvents(answer.body.requestId)).map((event) => event.kind)).toEqual([
      kind === "basic" || kind === "api-key" ? "auth_failure" : "signature_failure",
    ]);
  });

  it("refuses a request without its signature", async () => {
    const request = await sample(source);
    const bare = Object.fromEntries(
      Object.entries(request.headers).filter(([name]) =>
        name === "content-type" || !/signature|sig-hash|hmac|authorization|x-api-key|transmission-sig/i.test(name)
      ),
    );
    const answer = await send({ ...request, headers: bare });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toMatch(/^missing_(signature|credentials)$/);
  });
});

// One source per kind for the checks that apply to some schemes only.
const sources = new Map<VerifierKind, CreatedSource>();
const sourceOf = async (kind: VerifierKind) => {
  if (!sources.has(kind)) sources.set(kind, await newSource(kind));
  return sources.get(kind)!;
};

describe.each(SIGNS_BODY)("a %s source, whose scheme signs the body,", (kind) => {
  it("refuses a body changed after signing", async () => {
    const request = await sample(await sourceOf(kind));
    const answer = await send(request, { body: request.body.replace(/a/, "b") });
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("invalid_signature");
  });
});

describe.each(TIMESTAMPED)("a %s source, whose scheme signs a timestamp,", (kind) => {
  it("refuses a genuine request signed ten minutes ago as a replay", async () => {
    const answer = await send(await sample(await sourceOf(kind), { now: Math.floor(Date.now() / 1000) - 600 }));
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("timestamp_outside_tolerance");
    expect((await securityEvents(answer.body.requestId)).map((event) => event.kind)).toEqual(["replay"]);
  });
});

describe.each(KINDS.filter((kind) => SCHEMES[kind].secret !== "none"))("a %s source's secret", (kind) => {
  it("rotates: the old and the new one are both accepted", async () => {
    const source = await sourceOf(kind);
    const old = source.secret;
    const rotated = await sourcesApi("POST", `/${source.id}/rotate-secret`, {
      body: SCHEMES[kind].secret === "supplied" ? { secret: providerSecret(kind) } : {},
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    expect(rotated.body.secret).not.toBe(old);
    expect(rotated.body.previous_secret_expires_at).toEqual(expect.any(String));
    for (const secret of [old, rotated.body.secret]) {
      const answer = await send(await sample(source, { secret }));
      expect(answer.status, `${JSON.stringify(answer.body)} with the ${secret === old ? "old" : "new"} secret`).toBe(200);
    }
  });
});

describe("a source without verification", () => {
  it("is only created when chosen, accepts any request, and says so", async () => {
    const source = await newSource("none");
    expect(source).toMatchObject({ secret: null, verified: false });
    const answer = await send(await sample(source));
    expect(answer.status).toBe(200);
    const stats = await sourcesApi("GET", `/${source.id}/stats`);
    expect(stats.body).toMatchObject({ verified: false, total: 1 });
  });
});

describe("PayPal's certificate URL", () => {
  it("is refused outside paypal.com, before anything is fetched", async () => {
    const source = await newSource("paypal");
    const before = certificate.requests();
    const request = await sample(source, { paypal: { privateKey: paypalKey, certUrl: "https://evil.example/cert.pem" } });
    const answer = await send(request);
    expect(answer.status).toBe(401);
    expect(answer.body.error.code).toBe("invalid_cert_url");
    expect(certificate.requests()).toBe(before);
  });
});

describe("Twilio", () => {
  it("verifies a JSON body by the bodySHA256 its signed URL carries", async () => {
    const source = await newSource("twilio");
    const form = await sample(source);
    expect(form.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    const json = JSON.stringify({ MessageSid: "SM123", MessageStatus: "delivered" });
    const { twilioSignature } = await import("../../supabase/functions/_shared/webhook-verify/twilio.ts");
    const { sha256Hex } = await import("../../supabase/functions/_shared/bytes.ts");
    const url = `${source.url}?bodySHA256=${await sha256Hex(json)}`;
    const headers = {
      "content-type": "application/json",
      "x-twilio-signature": await twilioSignature(url, json, source.secret!, false),
    };
    const ok = await send({ url, headers, body: json });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.type).toBe("delivered");
    const tampered = await send({ url, headers, body: json.replace("delivered", "failed") });
    expect(tampered.status).toBe(401);
  });
});
