import { randomBytes } from "node:crypto";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECURITY_KIND_OF_CODE } from "../../supabase/functions/_shared/http/errors.ts";
import type { VerifierKind } from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { type Bait, startBait } from "../helpers/hostile-bait.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";

// Hostile input against every public endpoint, generated with fast-check: malformed and deep
// JSON, unicode edge cases, huge strings, forged signatures and tokens, SQL metacharacters and
// path traversal; inbound-webhook once per verifier, with that provider's headers forged. The
// checker: never a 5xx, every refusal a 4xx with an error code, no unhandled error in any
// function's log, one security event per refusal whose code has a security kind (and none
// other), nothing stored for a refused request, and no fetch of a forged PayPal certificate URL.
// HOSTILE_RUNS sets the requests per endpoint (the long suite uses 10,000).
const RUNS = Number(process.env.HOSTILE_RUNS ?? 100);
// Each fast-check run sends a batch of requests at once: the stack has several processes to keep
// busy, and a failing batch still shrinks to the one request that fails.
const BATCH = Math.max(1, Number(process.env.HOSTILE_BATCH ?? 6));
// Fixed, so a failure in CI replays exactly; HOSTILE_SEED explores others.
const SEED = Number(process.env.HOSTILE_SEED ?? 42);
const NUM_RUNS = Math.ceil(RUNS / BATCH);
let own: OwnStack;
let bait: Bait;
const sources = new Map<string, { id: string; url: string }>();

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
// Each verifier's source, as its provider's dashboard would set it up.
const VERIFIERS: { kind: VerifierKind; secret?: string; options?: Record<string, unknown> }[] = [
  { kind: "standard-webhooks" },
  { kind: "stripe", secret: `whsec_${randomBytes(24).toString("base64")}` },
  { kind: "github" },
  { kind: "shopify", secret: hex(16) },
  { kind: "close", secret: hex(32) },
  { kind: "twilio", secret: hex(16) },
  { kind: "paypal", options: { webhook_id: "WH-HOSTILE-1" } },
  { kind: "hmac", options: { timestamp_header: "x-timestamp", prefix: "v1=" } },
  { kind: "basic", options: { username: "shop" } },
  { kind: "api-key" },
  { kind: "none" },
];

beforeAll(async () => {
  bait = await startBait();
  own = await startOwnStack("hostile-input", {
    LOG_LEVEL: "info",
    CORS_ALLOWED_ORIGINS: "https://shop.example",
    // As in production: PayPal certificates come from paypal.com only (the local stack also allows loopback).
    PAYPAL_CERT_HOSTS: "",
  });
  for (const { kind, secret, options } of VERIFIERS) {
    const created = await fetch(fn("webhook-sources"), {
      method: "POST",
      headers: { authorization: `Bearer ${own.stack.env.SUPABASE_SERVICE_ROLE_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ name: `hostile ${kind}`, verifier: kind, secret, verifier_options: options }),
    });
    const source = await created.json();
    if (created.status !== 201) throw new Error(`creating the ${kind} source answered ${created.status}: ${JSON.stringify(source)}`);
    sources.set(kind, source);
  }
}, 180_000);

afterAll(async () => {
  await own?.close();
  await bait?.close();
});

const nasty = fc.oneof(
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme-composite" }),
  fc.constantFrom("\u0000", "\ud800", "\udfff", "\u202e", "\uffff", "\u00c0\u00af", "'; drop table orders; --", "../../etc/passwd",
    "%2e%2e%2f", "${7*7}", "<script>alert(1)</script>", "\r\nx-injected: 1", "😀".repeat(50)),
  fc.string({ minLength: 1, maxLength: 4 }).map((s) => s.repeat(20_000)),
);
const deep = fc.integer({ min: 50, max: 2000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth));
const body = fc.oneof(
  fc.json(),
  nasty,
  deep,
  fc.jsonValue().map((value) => JSON.stringify({ id: value, type: value, data: { object: value } })),
  fc.record({ id: nasty, type: nasty, created: fc.oneof(fc.integer(), nasty), data: fc.object() }).map((v) => JSON.stringify(v)),
  // Valid JSON that Postgres cannot hold: a number beyond numeric's range, lone surrogates, deep nesting.
  fc.constantFrom('{"type":"t","n":1e1000000}', String.raw`{"type":"\ud800","id":"\udfff"}`,
    `{"a":${"[".repeat(50_000)}${"]".repeat(50_000)}}`),
  // Shaped like the providers' events, with hostile fields where their ids and types go.
  fc.record({ id: nasty, event_type: nasty, event: fc.record({ id: nasty, object_type: nasty, action: nasty }) })
    .map((v) => JSON.stringify(v)),
);
// Now and then a body just over the 1 MiB limit (rarely: each one is a megabyte to send).
const anyBody = fc.oneof({ arbitrary: body, weight: 40 }, { arbitrary: fc.constant(`{"id":"${"x".repeat(1024 * 1024)}"}`), weight: 1 });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const token = fc.oneof(
  nasty,
  fc.constant(`${b64({ alg: "none", typ: "JWT" })}.${b64({ role: "service_role" })}.`),
  fc.constant(`${b64({ alg: "HS256", typ: "JWT" })}.${b64({ role: "service_role", exp: 1 })}.c2ln`),
  fc.string().map((s) => `${b64({ alg: "HS256" })}.${b64({ role: "authenticated", app_metadata: { role: "admin", tenant_id: s } })}.${b64(s)}`),
);
// What can travel in a header at all: its UTF-8 bytes as Latin-1 characters (a client cannot
// send anything above 255), without control characters or edge whitespace, which fetch
// refuses before sending (CR and LF are what header injection needs; the client stops them).
const asHeader = (value: string) =>
  Buffer.from(value).toString("latin1").replace(/[\u0000-\u001f\u007f]/g, "").trim().slice(0, 4000) || "x";
// Any string percent-encoded byte by byte (lone surrogates included), as a path segment.
const asPath = (value: string) =>
  "/" + [...Buffer.from(value.slice(0, 200))].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
const headerValue = nasty.map(asHeader);
// Where a forged PayPal signature says its certificate is: never paypal.com itself (that would
// leave this machine), but everything that might pass for it, and the bait on loopback.
const certUrl = fc.oneof(
  headerValue,
  fc.webUrl().map(asHeader),
  fc.constantFrom("https://paypal.com.evil.example/cert.pem", "https://evilpaypal.com/cert.pem", "http://api.paypal.com/cert.pem",
    "https://api.paypal.com@evil.example/cert.pem", "https://api.paypal.com./cert.pem", "file:///etc/passwd",
    "https://169.254.169.254/latest/meta-data", "https://[::1]/cert.pem", "//api.paypal.com/cert.pem", "https://xn--pypal-4ve.com/c"),
  fc.nat().map((n) => `${bait.url}/cert-${n}.pem`),
  fc.nat().map((n) => `https://api.paypal.com@${bait.url.slice("http://".length)}/cert-${n}.pem`),
);
const request = fc.record({
  body: anyBody,
  contentType: fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain",
    "application/x-www-form-urlencoded", ""),
  signature: headerValue,
  token: token.map(asHeader),
  path: fc.oneof(fc.constant(""), nasty.map(asPath), fc.constantFrom("/../operations/metrics", "/%00", "/1%27%20or%201=1")),
  // The makings of a forged signature in the provider's own format.
  forged: fc.record({
    mode: fc.constantFrom("plausible", "hostile", "missing"),
    bytes: fc.uint8Array({ maxLength: 64 }),
    skew: fc.oneof(fc.constant(0), fc.integer({ min: -10_000_000, max: 10_000_000 })),
    id: fc.oneof(fc.uuid(), headerValue),
    certUrl,
  }),
});
type Hostile = fc.infer<typeof request>;

/** The forged value of one signature header: in the provider's format, hostile, or left out. */
const sig = (r: Hostile, plausible: (bytes: Buffer) => string) =>
  r.forged.mode === "plausible" ? plausible(Buffer.from(r.forged.bytes)) : r.forged.mode === "hostile" ? r.signature : undefined;
const unix = (r: Hostile) => String(Math.floor(Date.now() / 1000) + r.forged.skew);
const hexOf = (bytes: Buffer) => bytes.toString("hex");
const base64Of = (bytes: Buffer) => bytes.toString("base64");

/** Each scheme's headers, as its provider sends them, with the signature forged. */
const FORGED: Record<VerifierKind, (r: Hostile) => Record<string, string | undefined>> = {
  "standard-webhooks": (r) => ({
    "webhook-id": r.forged.id,
    "webhook-timestamp": r.forged.mode === "hostile" ? r.signature : unix(r),
    "webhook-signature": sig(r, (b) => `v1,${base64Of(b)}`),
  }),
  stripe: (r) => ({ "stripe-signature": sig(r, (b) => `t=${unix(r)},v1=${hexOf(b)}`) }),
  github: (r) => ({
    "x-github-event": "push",
    "x-github-delivery": r.forged.id,
    "x-hub-signature-256": sig(r, (b) => `sha256=${hexOf(b)}`),
  }),
  shopify: (r) => ({
    "x-shopify-topic": "orders/create",
    "x-shopify-webhook-id": r.forged.id,
    "x-shopify-hmac-sha256": sig(r, base64Of),
  }),
  close: (r) => ({ "close-sig-timestamp": unix(r), "close-sig-hash": sig(r, hexOf) }),
  twilio: (r) => ({ "i-twilio-idempotency-token": r.forged.id, "x-twilio-signature": sig(r, base64Of) }),
  paypal: (r) => ({
    "paypal-transmission-id": r.forged.id,
    "paypal-transmission-time": new Date((Math.floor(Date.now() / 1000) + r.forged.skew) * 1000).toISOString(),
    "paypal-transmission-sig": sig(r, base64Of),
    "paypal-cert-url": asHeader(r.forged.certUrl),
    "paypal-auth-algo": r.forged.mode === "hostile" ? r.signature : "SHA256withRSA",
  }),
  hmac: (r) => ({ "x-timestamp": unix(r), "x-signature": sig(r, (b) => `v1=${hexOf(b)}`) }),
  basic: (r) => ({ authorization: sig(r, (b) => `Basic ${base64Of(Buffer.from(`shop:${hexOf(b)}`))}`) }),
  "api-key": (r) => ({ "x-api-key": sig(r, hexOf) }),
  none: (r) => ({ "x-signature": r.signature }),
};

interface Target {
  name: string;
  url: () => string;
  method: string;
  headers: (r: Hostile) => Record<string, string | undefined>;
  /** Where an accepted request would leave a row: a refused one must leave none. */
  table: string;
  /** Sent to the URL exactly, never with a generated path appended (the sources: so the verifier is reached). */
  pathless?: boolean;
  /** Accepts what it is sent (the `none` verifier): each accepted event id may leave one row. */
  accepts?: boolean;
}

const fn = (name: string) => `${own.stack.env.SUPABASE_URL}/functions/v1/${name}`;

const TARGETS: Target[] = [
  { name: "stripe-webhook", url: () => fn("stripe-webhook"), method: "POST", table: "webhook_events", headers: (r) => ({ "stripe-signature": r.signature }) },
  { name: "resend-webhook", url: () => fn("resend-webhook"), method: "POST", table: "webhook_events",
    headers: (r) => ({ "svix-id": "msg_1", "svix-timestamp": String(Math.floor(Date.now() / 1000)), "svix-signature": r.signature }) },
  ...VERIFIERS.map(({ kind }): Target => ({
    name: `inbound-webhook (${kind} source)`,
    url: () => sources.get(kind)!.url,
    method: "POST",
    table: "webhook_events",
    headers: FORGED[kind],
    pathless: true,
    accepts: kind === "none",
  })),
  { name: "inbound-webhook (any id)", url: () => fn("inbound-webhook"), method: "POST", table: "webhook_events", headers: () => ({}) },
  { name: "track-social-share", url: () => fn("track-social-share"), method: "POST", table: "social_shares",
    headers: (r) => ({ authorization: `Bearer ${own.stack.env.SUPABASE_ANON_KEY}`, origin: "https://shop.example", "x-sig": r.signature }) },
  { name: "analytics-service", url: () => fn("analytics-service"), method: "POST", table: "analytics_events",
    headers: () => ({ authorization: `Bearer ${own.stack.env.SUPABASE_ANON_KEY}`, origin: "https://shop.example" }) },
  { name: "webhook-endpoints", url: () => fn("webhook-endpoints"), method: "POST", table: "webhook_endpoints", headers: (r) => ({ authorization: `Bearer ${r.token}` }) },
  { name: "webhook-sources", url: () => fn("webhook-sources"), method: "PATCH", table: "webhook_sources", headers: (r) => ({ authorization: `Bearer ${r.token}` }) },
  { name: "operations", url: () => fn("operations/actions"), method: "POST", table: "ops_alerts", headers: (r) => ({ authorization: `Bearer ${r.token}` }) },
];

/** The function a URL reaches (a `..` in the generated path may lead to another one). */
const functionOf = (url: string) => new URL(url).pathname.split("/")[3] ?? "";

/** What one target's run saw: counts by status, and the security events its refusals should have recorded. */
interface Tally {
  requests: number;
  statuses: Map<number, number>;
  /** `function:kind` → refusals whose code has that kind. */
  security: Map<string, number>;
  /** Event ids of accepted requests. */
  acceptedIds: Set<string>;
  accepted: number;
}

/** Sends one hostile request to `target`, checks the answer, and counts it in `tally`. */
async function send(target: Target, r: Hostile, tally: Tally) {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(target.headers(r))) if (value !== undefined) headers[name] = value;
  if (r.contentType) headers["content-type"] = r.contentType;
  const url = `${target.url()}${target.pathless ? "" : r.path}`;
  const response = await fetch(url, { method: target.method, headers, body: r.body });
  const text = await response.text();
  const { status } = response;
  tally.requests++;
  tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
  expect(status, `${target.name} answered ${status}: ${text.slice(0, 300)}`).toBeLessThan(500);
  if (status < 300) {
    tally.accepted++;
    const id = text ? JSON.parse(text).id : undefined;
    if (typeof id === "string") tally.acceptedIds.add(id);
  }
  if (status >= 400 && status !== 404 || status === 404 && text) {
    const code = JSON.parse(text).error.code;
    expect(code, text.slice(0, 300)).toMatch(/^[a-z][a-z0-9_]*$/);
    const kind = SECURITY_KIND_OF_CODE[code];
    const key = `${functionOf(response.url || url)}:${kind}`;
    if (kind) tally.security.set(key, (tally.security.get(key) ?? 0) + 1);
  }
}

/** The security events recorded after event `afterId`, by `function:kind`; bursts' security_alert rows apart. */
async function securityEventsSince(afterId: number) {
  const rows = await own.sql<{ key: string; n: number }[]>`
    select coalesce(function_name, '') || ':' || kind as key, count(*)::int as n
    from public.security_events where id > ${afterId} and kind <> 'security_alert' group by 1`;
  const alerts = await own.sql<{ n: number }[]>`
    select count(*)::int as n from public.security_events where id > ${afterId} and kind = 'security_alert'`;
  return { byKind: Object.fromEntries(rows.map((row) => [row.key, row.n])), alerts: alerts[0].n };
}

const lastSecurityEvent = () =>
  own.sql<{ id: number }[]>`select coalesce(max(id), 0)::int as id from public.security_events`.then(([row]) => row.id);

const figures: Record<string, unknown>[] = [];

describe.each(TARGETS)("$name under hostile input", (target) => {
  it(`answers ${NUM_RUNS * BATCH} generated requests with no 5xx, a code on every refusal, and its security events`, async () => {
    const rows = () => own.sql.unsafe(`select count(*)::int as n from public.${target.table}`).then(([row]) => row.n as number);
    const before = await rows();
    const lastEvent = await lastSecurityEvent();
    const startedAt = performance.now();
    const tally: Tally = { requests: 0, statuses: new Map(), security: new Map(), acceptedIds: new Set(), accepted: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
        await Promise.all(batch.map((r) => send(target, r, tally)));
      }),
      { numRuns: NUM_RUNS, seed: SEED, endOnFailure: true },
    );
    const seconds = (performance.now() - startedAt) / 1000;
    const recorded = await securityEventsSince(lastEvent);
    figures.push({
      target: target.name,
      requests: tally.requests,
      statuses: Object.fromEntries([...tally.statuses].sort(([a], [b]) => a - b)),
      securityEvents: recorded.byKind,
      alerts: recorded.alerts,
      seconds: Math.round(seconds),
    });
    // HOSTILE_FIGURES=<file> keeps each target's figures as one JSON line, as soon as its run ends.
    if (process.env.HOSTILE_FIGURES) appendFileSync(process.env.HOSTILE_FIGURES, JSON.stringify(figures.at(-1)) + "\n");
    expect([...tally.statuses.keys()].every((status) => status < 500)).toBe(true);
    expect(recorded.byKind, "the securityLogger's events differ from the refusals that carry a security kind")
      .toEqual(Object.fromEntries(tally.security));
    const added = await rows() - before;
    if (target.accepts) {
      // Anything goes through an unverified source: each distinct event id it accepted may leave
      // its row (a repeat is a duplicate), and no refused request may leave one.
      expect(added, `rows in ${target.table} beyond the accepted events`).toBe(tally.acceptedIds.size);
    } else {
      expect(added, `a refused request left a row in ${target.table}`).toBeLessThanOrEqual(tally.accepted);
    }
  }, 60_000 + RUNS * 60);
});

/** Posts `body` as JSON to the `none` source, which takes anything. */
const postToNone = async (body: string) => {
  const response = await fetch(sources.get("none")!.url, { method: "POST", headers: { "content-type": "application/json" }, body });
  return { status: response.status, body: await response.json() };
};

describe("regressions", () => {
  it("regression: a lone surrogate escape in a JSON body is stored as U+FFFD, not answered 500", async () => {
    const cases: [string, string][] = [
      [String.raw`a\ud800b`, "a\ufffdb"],
      [String.raw`a\udc00b`, "a\ufffdb"],
      [String.raw`a\uDBFFxb`, "a\ufffdxb"],
      [String.raw`a\\\ud800b`, "a\\\ufffdb"],
      [String.raw`a\\ud800b`, "a\\ud800b"],
      [String.raw`a\ud83d\ude00b`, "a\u{1f600}b"],
    ];
    for (const [sent, stored] of cases) {
      const answer = await postToNone(`{"type":"surrogate","note":"${sent}"}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const [row] = await own.sql`select payload->>'note' as note from public.webhook_events where event_id = ${answer.body.id}`;
      expect(row.note, sent).toBe(stored);
    }
  });

  it("regression: JSON that Postgres cannot hold (a huge exponent, deep nesting) is refused with a 4xx and a code", async () => {
    const before = await own.sql`select count(*)::int as n from public.webhook_events`;
    for (const body of ['{"type":"t","n":1e1000000}', '{"type":"t","n":[-1e999999]}', "[".repeat(100_000) + "]".repeat(100_000)]) {
      const answer = await postToNone(body);
      expect(answer.status, JSON.stringify(answer.body)).toBe(400);
      expect(answer.body.error.code).toBe("unstorable_payload");
    }
    expect(await own.sql`select count(*)::int as n from public.webhook_events`).toEqual(before);
  });
});

describe("the forged PayPal certificate URLs", () => {
  it("were refused by the host allowlist and never fetched", () => {
    expect(bait.hits).toEqual([]);
  });
});

describe("the functions' logs", () => {
  it("hold no unhandled error after all of it", () => {
    const log = readFileSync(join(own.stack.localDir, "stack.log"), "utf8");
    expect(log.split("\n").filter((line) => line.includes('"msg":"unhandled error"'))).toEqual([]);
  });
});
