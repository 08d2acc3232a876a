import { beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import { createHandler, type HandlerResult, type Route } from "../../supabase/functions/_shared/http/pipeline.ts";
import { requestIdOf } from "../../supabase/functions/_shared/http/request-id.ts";
import type { ClaimOutcome, IdempotencyStore } from "../../supabase/functions/_shared/idempotency.ts";
import { createLogger } from "../../supabase/functions/_shared/log.ts";
import { redact } from "../../supabase/functions/_shared/redact.ts";
import type { ClientIpPolicy } from "../../supabase/functions/_shared/http/client-ip.ts";
import type { RateLimitDecision } from "../../supabase/functions/_shared/rate-limit.ts";
import type { SecurityEvent, SecurityLogger } from "../../supabase/functions/_shared/security-logger.ts";

const URL_ = "https://project.supabase.co/orders";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const orderSchema = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  shipping: z.object({ country: z.string().length(2) }),
});
type Order = z.infer<typeof orderSchema>;

/** An idempotency store with the semantics of the SQL functions, kept in a Map. */
class MemoryIdempotencyStore implements IdempotencyStore {
  readonly entries = new Map<string, { hash: string; done: boolean; status?: number; body?: unknown }>();
  readonly calls: string[] = [];

  claim(scope: string, key: string, requestHash: string): Promise<ClaimOutcome> {
    this.calls.push(`claim ${key}`);
    const id = `${scope}/${key}`;
    const entry = this.entries.get(id);
    if (!entry) {
      this.entries.set(id, { hash: requestHash, done: false });
      return Promise.resolve({ outcome: "claimed" });
    }
    if (entry.hash !== requestHash) return Promise.resolve({ outcome: "mismatch" });
    if (!entry.done) return Promise.resolve({ outcome: "in_flight" });
    return Promise.resolve({ outcome: "replay", status: entry.status!, body: entry.body });
  }

  complete(scope: string, key: string, status: number, body: unknown): Promise<void> {
    this.calls.push(`complete ${key} ${status}`);
    const entry = this.entries.get(`${scope}/${key}`);
    if (entry) Object.assign(entry, { done: true, status, body });
    return Promise.resolve();
  }

  release(scope: string, key: string): Promise<void> {
    this.calls.push(`release ${key}`);
    this.entries.delete(`${scope}/${key}`);
    return Promise.resolve();
  }
}

interface Harness {
  handler: (req: Request) => Promise<Response>;
  calls: { authenticate: number; authorize: number; rateLimit: number; handle: number };
  handled: { body: Order; rawBody: string; principal: string }[];
  security: SecurityEvent[];
  logLines: string[];
  store: MemoryIdempotencyStore;
}

interface HarnessOptions {
  maxBodyBytes?: number;
  rateLimit?: RateLimitDecision;
  handle?: () => Promise<HandlerResult>;
  withSecurityLogger?: boolean;
  clientIp?: ClientIpPolicy;
  anonymizeIp?: (ip: string) => Promise<string>;
}

/** A route that accepts POST with an `x-signature: good` header, for tenant "acme" only. */
function harness(options: HarnessOptions = {}): Harness {
  const calls = { authenticate: 0, authorize: 0, rateLimit: 0, handle: 0 };
  const handled: Harness["handled"] = [];
  const security: SecurityEvent[] = [];
  const logLines: string[] = [];
  const store = new MemoryIdempotencyStore();
  const securityLogger: SecurityLogger = {
    record(event) {
      security.push(event);
      return Promise.resolve();
    },
  };
  const route: Route<string, Order> = {
    name: "orders",
    methods: ["POST"],
    maxBodyBytes: options.maxBodyBytes ?? 256,
    authenticate(ctx) {
      calls.authenticate++;
      if (ctx.req.headers.get("x-signature") !== "good") {
        return Promise.reject(
          new HttpError(401, "invalid_signature", "The signature does not match.", { security: "signature_failure" }),
        );
      }
      return Promise.resolve({ principal: ctx.req.headers.get("x-tenant") ?? "acme" });
    },
    schema: orderSchema,
    authorize(principal) {
      calls.authorize++;
      if (principal !== "acme") throw new HttpError(403, "forbidden", "This tenant may not order.");
    },
    idempotency: { store, scope: "orders" },
    rateLimit() {
      calls.rateLimit++;
      return Promise.resolve(options.rateLimit ?? { allowed: true, retryAfterSeconds: 0 });
    },
    async handle({ body, rawBody, principal }) {
      calls.handle++;
      handled.push({ body, rawBody, principal });
      if (options.handle) return await options.handle();
      return { status: 201, body: { ordered: body.sku, n: calls.handle } };
    },
  };
  const logger = createLogger({ fn: "orders" }, { sink: (line) => logLines.push(line) });
  const deps = {
    logger,
    securityLogger: options.withSecurityLogger === false ? undefined : securityLogger,
    clientIp: options.clientIp,
    anonymizeIp: options.anonymizeIp,
  };
  return { handler: createHandler(route, deps), calls, handled, security, logLines, store };
}

const validBody = { sku: "mug-01", quantity: 2, shipping: { country: "DE" } };

function post(body: unknown = validBody, headers: Record<string, string> = {}, method = "POST"): Request {
  return new Request(URL_, {
    method,
    headers: { "content-type": "application/json", "x-signature": "good", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function call(h: Harness, req: Request) {
  const res = await h.handler(req);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}

describe("pipeline: each check answers with its status and the contract's error shape", () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it("passes a valid request to handle with the parsed body, raw body and principal", async () => {
    const raw = JSON.stringify(validBody);
    const res = await call(h, post(raw));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ ordered: "mug-01", n: 1 });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(h.handled).toEqual([{ body: validBody, rawBody: raw, principal: "acme" }]);
  });

  it("answers 405 with an Allow header for a method the route does not accept", async () => {
    const res = await call(h, new Request(URL_, { method: "GET", headers: { "x-signature": "good" } }));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.body).toEqual({
      error: { code: "method_not_allowed", message: expect.any(String) },
      requestId: res.headers.get("x-request-id"),
    });
    expect(h.calls.authenticate).toBe(0);
  });

  it("answers 415 when a POST body is not application/json", async () => {
    const res = await call(h, post(JSON.stringify(validBody), { "content-type": "text/plain" }));
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("unsupported_media_type");
    expect(h.calls.authenticate).toBe(0);
  });

  it("accepts application/json with parameters and in any letter case", async () => {
    const res = await call(h, post(validBody, { "content-type": "Application/JSON; charset=utf-8" }));
    expect(res.status).toBe(201);
  });

  it("answers 413 when the body exceeds the limit", async () => {
    const res = await call(h, post({ ...validBody, sku: "x".repeat(300) }));
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe("payload_too_large");
    expect(h.calls.authenticate).toBe(0);
  });

  it("answers 413 from a declared Content-Length without reading the body", async () => {
    const res = await call(h, post(validBody, { "content-length": "1000000" }));
    expect(res.status).toBe(413);
    expect(h.calls.authenticate).toBe(0);
  });

  it("answers 413 for a streamed body without Content-Length once it passes the limit", async () => {
    let pulled = 0;
    const chunk = new TextEncoder().encode(`{"sku":"${"y".repeat(100)}`);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        // An endless body: only the pipeline's limit can stop it.
        controller.enqueue(chunk);
      },
    });
    const req = new Request(
      URL_,
      {
        method: "POST",
        headers: { "content-type": "application/json", "x-signature": "good" },
        body: stream,
        duplex: "half",
      } as RequestInit & { duplex: "half" },
    );
    expect(req.headers.get("content-length")).toBeNull();
    const res = await call(h, req);
    expect(res.status).toBe(413);
    expect(h.calls.authenticate).toBe(0);
    expect(pulled).toBeLessThan(10);
  });

  it("answers 401 when authenticate throws", async () => {
    const res = await call(h, post(validBody, { "x-signature": "forged" }));
    expect(res.status).toBe(401);
    expect(res.body.error).toEqual({ code: "invalid_signature", message: "The signature does not match." });
    expect(h.calls.handle).toBe(0);
  });

  it("answers 400 invalid_json for a body that is not JSON", async () => {
    const res = await call(h, post("{not json"));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
    expect(h.calls.authorize).toBe(0);
  });

  it("answers 400 with the failing paths as details when the schema rejects the body", async () => {
    const res = await call(h, post({ sku: "", quantity: 1.5, shipping: { country: "Germany" } }));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    const details = res.body.error.details as { path: string; message: string }[];
    expect(details.map((d) => d.path).sort()).toEqual(["quantity", "shipping.country", "sku"]);
    for (const d of details) expect(d.message).toEqual(expect.any(String));
    expect(h.calls.authorize).toBe(0);
    expect(h.calls.handle).toBe(0);
  });

  it("reports a missing nested object by its path", async () => {
    const res = await call(h, post({ sku: "mug", quantity: 1 }));
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: "shipping", message: expect.any(String) }]);
  });

  it("answers 403 when authorize throws", async () => {
    const res = await call(h, post(validBody, { "x-tenant": "globex" }));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("forbidden");
    expect(h.calls.handle).toBe(0);
  });

  it("answers 429 with Retry-After when the rate limit refuses", async () => {
    h = harness({ rateLimit: { allowed: false, retryAfterSeconds: 7 } });
    const res = await call(h, post());
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(res.body.error.code).toBe("rate_limited");
    expect(h.calls.handle).toBe(0);
  });

  it("passes the handler's own status and headers through", async () => {
    h = harness({
      handle: () => Promise.resolve({ status: 202, body: { queued: true }, headers: { location: "/q/1" } }),
    });
    const res = await call(h, post());
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe("/q/1");
    expect(res.body).toEqual({ queued: true });
  });
});

describe("pipeline: an earlier check wins when several are violated", () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });

  it("wrong method and wrong content type → 405", async () => {
    const res = await call(h, post("x", { "content-type": "text/plain" }, "PUT"));
    expect(res.status).toBe(405);
  });

  it("wrong content type and oversized body → 415", async () => {
    const res = await call(h, post("x".repeat(1000), { "content-type": "text/plain" }));
    expect(res.status).toBe(415);
  });

  it("oversized body and bad signature → 413, and authenticate is never called", async () => {
    const res = await call(h, post("x".repeat(1000), { "x-signature": "forged" }));
    expect(res.status).toBe(413);
    expect(h.calls.authenticate).toBe(0);
  });

  it("bad signature and invalid JSON → 401", async () => {
    const res = await call(h, post("{not json", { "x-signature": "forged" }));
    expect(res.status).toBe(401);
  });

  it("schema failure and forbidden principal → 400", async () => {
    const res = await call(h, post({ sku: "" }, { "x-tenant": "globex" }));
    expect(res.status).toBe(400);
    expect(h.calls.authorize).toBe(0);
  });

  it("forbidden principal and rate limited → 403, and the limiter is not charged", async () => {
    h = harness({ rateLimit: { allowed: false, retryAfterSeconds: 3 } });
    const res = await call(h, post(validBody, { "x-tenant": "globex" }));
    expect(res.status).toBe(403);
    expect(h.calls.rateLimit).toBe(0);
  });
});

describe("pipeline: request id", () => {
  const h = harness();

  it("echoes a safe x-request-id in the header and the error body", async () => {
    const res = await call(h, post(validBody, { "x-request-id": "req_01:abc-DEF.9", "x-signature": "bad" }));
    expect(res.headers.get("x-request-id")).toBe("req_01:abc-DEF.9");
    expect(res.body.requestId).toBe("req_01:abc-DEF.9");
  });

  it("generates a UUID when the request has none", async () => {
    const res = await call(h, post());
    expect(res.headers.get("x-request-id")).toMatch(UUID);
  });

  it("generates a different id for each request without one", async () => {
    const a = await call(h, post(validBody, { "x-signature": "bad" }));
    const b = await call(h, post(validBody, { "x-signature": "bad" }));
    expect(a.body.requestId).not.toBe(b.body.requestId);
  });

  it.each([
    ["containing spaces", "abc def"],
    ["containing a tab", "abc\tdef"],
    ["with markup", "<script>alert(1)</script>"],
    ["longer than 128 characters", "a".repeat(129)],
  ])("replaces an unsafe id %s with a new UUID", async (_label, unsafe) => {
    const res = await call(h, post(validBody, { "x-request-id": unsafe, "x-signature": "bad" }));
    expect(res.headers.get("x-request-id")).toMatch(UUID);
    expect(res.body.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("replaces an id containing a newline (which a raw proxy could pass) with a new UUID", () => {
    // A WHATWG Request refuses such a header, so hand requestIdOf a bare header map.
    const req = { headers: new Map([["x-request-id", "abc\ninjected: 1"]]) } as unknown as Request;
    expect(requestIdOf(req)).toMatch(UUID);
  });

  it("binds the request id into every log line of the request", async () => {
    const before = h.logLines.length;
    await call(h, post(validBody, { "x-request-id": "trace-42", "x-signature": "bad" }));
    const lines = h.logLines.slice(before).map((l) => JSON.parse(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.requestId).toBe("trace-42");
  });
});

describe("pipeline: unexpected errors", () => {
  it.each([
    ["ECONNREFUSED", Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })],
    ["CONNECTION_CLOSED", { code: "CONNECTION_CLOSED", message: "write CONNECTION_CLOSED" }],
    ["57P01 admin_shutdown", { code: "57P01" }],
    ["08006 connection_failure", { code: "08006" }],
  ])("answers 503 with Retry-After for a transient database error (%s)", async (_label, error) => {
    const h = harness({ handle: () => Promise.reject(error) });
    const res = await call(h, post());
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe("service_unavailable");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  it("answers 500 internal_error without leaking the thrown error's text", async () => {
    const leak = "relation customers_private does not exist; password=hunter2";
    const h = harness({ handle: () => Promise.reject(new Error(leak)) });
    const res = await call(h, post());
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe("internal_error");
    expect(res.text).not.toContain("customers_private");
    expect(res.text).not.toContain("hunter2");
    expect(res.body.requestId).toBe(res.headers.get("x-request-id"));
  });

  it("answers 500 (not 503) for a database error that is the request's fault", async () => {
    const h = harness({ handle: () => Promise.reject({ code: "23505", message: "duplicate key" }) });
    const res = await call(h, post());
    expect(res.status).toBe(500);
  });

  it("logs the 500's cause with secrets redacted", async () => {
    const h = harness({ handle: () => Promise.reject(new Error("failed with sk_live_abcdefgh12345678")) });
    await call(h, post());
    const log = h.logLines.join("\n");
    expect(log).toContain("unhandled error");
    expect(log).not.toContain("sk_live_abcdefgh12345678");
  });
});

describe("pipeline: idempotency keys", () => {
  let h: Harness;
  beforeEach(() => {
    h = harness();
  });
  const withKey = (key: string, body: unknown = validBody) => post(body, { "idempotency-key": key });

  it("replays the stored status and body without calling handle again", async () => {
    const first = await call(h, withKey("k1"));
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const second = await call(h, withKey("k1"));
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("x-request-id")).toMatch(UUID);
    expect(h.calls.handle).toBe(1);
  });

  it("answers 409 idempotency_key_in_flight while the first request is still running", async () => {
    let finish!: () => void;
    const slow = harness({
      handle: () => new Promise((resolve) => (finish = () => resolve({ status: 200, body: { ok: true } }))),
    });
    const first = slow.handler(withKey("k2"));
    await vi.waitFor(() => expect(slow.calls.handle).toBe(1));
    const second = await call(slow, withKey("k2"));
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("idempotency_key_in_flight");
    finish();
    expect((await first).status).toBe(200);
    expect(slow.calls.handle).toBe(1);
  });

  it("answers 422 when the key comes back with the same body on a different query string", async () => {
    await call(h, post(validBody, { "idempotency-key": "kq" }));
    const other = new Request(`${URL_}?currency=eur`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-signature": "good", "idempotency-key": "kq" },
      body: JSON.stringify(validBody),
    });
    const res = await call(h, other);
    expect(res.status).toBe(422);
    expect(h.calls.handle).toBe(1);
  });

  it("answers 422 idempotency_key_reused when the key comes back with a different body", async () => {
    await call(h, withKey("k3"));
    const res = await call(h, withKey("k3", { ...validBody, quantity: 3 }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe("idempotency_key_reused");
    expect(h.calls.handle).toBe(1);
  });

  it("answers a replay, in-flight or reused key before the rate limit, without taking a token", async () => {
    const options: HarnessOptions = {};
    h = harness(options);
    await call(h, withKey("k8"));
    expect(h.calls.rateLimit).toBe(1);
    options.rateLimit = { allowed: false, retryAfterSeconds: 9 };
    const replay = await call(h, withKey("k8"));
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const reused = await call(h, withKey("k8", { ...validBody, quantity: 5 }));
    expect(reused.status).toBe(422);
    expect(h.calls.rateLimit).toBe(1);
  });

  it("releases the key when the rate limit refuses, so the 429 can be retried", async () => {
    const options: HarnessOptions = { rateLimit: { allowed: false, retryAfterSeconds: 2 } };
    h = harness(options);
    expect((await call(h, withKey("k9"))).status).toBe(429);
    expect(h.store.calls).toEqual(["claim k9", "release k9"]);
    options.rateLimit = undefined;
    expect((await call(h, withKey("k9"))).status).toBe(201);
  });

  it("completes the key with the response after a 2xx", async () => {
    await call(h, withKey("k4"));
    expect(h.store.calls).toEqual(["claim k4", "complete k4 201"]);
    expect(h.store.entries.get("orders/k4")).toMatchObject({ done: true, status: 201, body: { ordered: "mug-01" } });
  });

  it("releases the key after a 5xx result so a retry runs the handler again", async () => {
    let status = 500;
    h = harness({ handle: () => Promise.resolve({ status, body: { try: status } }) });
    const first = await call(h, withKey("k5"));
    expect(first.status).toBe(500);
    expect(h.store.calls).toEqual(["claim k5", "release k5"]);
    status = 200;
    const retry = await call(h, withKey("k5"));
    expect(retry.status).toBe(200);
    expect(retry.headers.get("idempotent-replayed")).toBeNull();
    expect(h.calls.handle).toBe(2);
  });

  it("releases the key when handle throws a transient error, so the 503 can be retried", async () => {
    h = harness({ handle: () => Promise.reject({ code: "ECONNRESET" }) });
    const res = await call(h, withKey("k6"));
    expect(res.status).toBe(503);
    expect(h.store.calls).toEqual(["claim k6", "release k6"]);
    expect(h.store.entries.has("orders/k6")).toBe(false);
  });

  it("does not consult the store for requests without an Idempotency-Key", async () => {
    await call(h, post());
    await call(h, post());
    expect(h.store.calls).toEqual([]);
    expect(h.calls.handle).toBe(2);
  });

  it("checks the key only after authentication, so a forged request cannot burn a key", async () => {
    const forged = await call(h, post(validBody, { "idempotency-key": "k7", "x-signature": "forged" }));
    expect(forged.status).toBe(401);
    expect(h.store.calls).toEqual([]);
  });
});

describe("pipeline: security events", () => {
  const forwarded = { "x-forwarded-for": "203.0.113.7, 10.0.0.1" };

  it.each(
    [
      ["401 bad signature", {}, post(validBody, { ...forwarded, "x-signature": "forged" }), 401, "signature_failure"],
      ["413 oversized", {}, post("x".repeat(1000), forwarded), 413, "payload_too_large"],
      ["400 invalid JSON", {}, post("{", forwarded), 400, "malformed_payload"],
      ["400 schema failure", {}, post({ sku: 1 }, forwarded), 400, "malformed_payload"],
      [
        "429 rate limited",
        { rateLimit: { allowed: false, retryAfterSeconds: 1 } },
        post(validBody, forwarded),
        429,
        "rate_limited",
      ],
    ] as const,
  )("records %s with the client the trusted proxies saw as source", async (_l, opts, req, status, kind) => {
    const h = harness({ ...opts, clientIp: { header: "x-forwarded-for", trustedHops: 2 } });
    const res = await call(h, req);
    expect(res.status).toBe(status);
    expect(h.security).toHaveLength(1);
    expect(h.security[0]).toMatchObject({
      kind,
      source: "203.0.113.7",
      functionName: "orders",
      requestId: res.body.requestId,
    });
    expect(h.security[0].details).toMatchObject({ code: res.body.error.code, path: "/orders" });
  });

  it.each(
    [
      ["405", post(validBody, forwarded, "PUT"), 405],
      ["415", post(validBody, { ...forwarded, "content-type": "text/plain" }), 415],
    ] as const,
  )("does not record %s", async (_l, req, status) => {
    const h = harness();
    const res = await call(h, req);
    expect(res.status).toBe(status);
    expect(h.security).toEqual([]);
  });

  it("does not record successful requests", async () => {
    const h = harness();
    await call(h, post(validBody, forwarded));
    expect(h.security).toEqual([]);
  });

  it("ignores the hops a client wrote itself: with one trusted proxy the source is the last entry", async () => {
    const h = harness();
    await call(h, post(validBody, { "x-forwarded-for": "1.2.3.4, 198.51.100.3", "x-signature": "forged" }));
    expect(h.security[0].source).toBe("198.51.100.3");
  });

  it("reads a single-value header such as cf-connecting-ip when configured", async () => {
    const h = harness({ clientIp: { header: "cf-connecting-ip", trustedHops: 1 } });
    await call(h, post(validBody, { ...forwarded, "cf-connecting-ip": "192.0.2.44", "x-signature": "forged" }));
    expect(h.security[0].source).toBe("192.0.2.44");
  });

  it("records the anonymized source when the function anonymizes addresses", async () => {
    const seen: string[] = [];
    const h = harness({ anonymizeIp: (ip) => (seen.push(ip), Promise.resolve("anon-7f3a")) });
    await call(h, post(validBody, { ...forwarded, "x-signature": "forged" }));
    expect(seen).toEqual(["10.0.0.1"]);
    expect(h.security[0].source).toBe("anon-7f3a");
    expect(JSON.stringify(redact(h.security[0]))).not.toMatch(/203\.0\.113\.7|10\.0\.0\.1/);
  });

  it("still answers 401 when no securityLogger is wired", async () => {
    const h = harness({ withSecurityLogger: false });
    const res = await call(h, post(validBody, { "x-signature": "forged" }));
    expect(res.status).toBe(401);
  });
});

describe("pipeline: responses without a body", () => {
  it("answers a handler's 204 with an empty body and the request id, and replays it for the same key", async () => {
    const h = harness({ handle: () => Promise.resolve({ status: 204, body: null }) });
    const first = await h.handler(post(validBody, { "idempotency-key": "k204" }));
    expect(first.status).toBe(204);
    expect(await first.text()).toBe("");
    expect(first.headers.get("x-request-id")).toMatch(UUID);
    const again = await h.handler(post(validBody, { "idempotency-key": "k204" }));
    expect(again.status).toBe(204);
    expect(h.calls.handle).toBe(1);
  });
});

describe("pipeline: a route whose body is optional", () => {
  const actionSchema = z.object({ expire_previous: z.boolean().optional() });

  /** An action route, like rotate-secret: POST, body optional, at most 64 bytes. */
  function action(optionalBody = true) {
    const seen: { body: unknown; rawBody: string }[] = [];
    const calls = { authenticate: 0 };
    const handler = createHandler<string, z.infer<typeof actionSchema>>({
      name: "actions",
      methods: ["POST"],
      maxBodyBytes: 64,
      optionalBody,
      authenticate: () => (calls.authenticate++, Promise.resolve({ principal: "admin" })),
      schema: actionSchema,
      handle: ({ body, rawBody }) => {
        seen.push({ body, rawBody });
        return Promise.resolve({ status: 200, body: { body } });
      },
    }, { logger: createLogger({ fn: "actions" }, { sink: () => {} }) });
    return { handler, seen, calls };
  }
  const send = (init: RequestInit & { duplex?: "half" } = {}) => new Request(URL_, { method: "POST", ...init });

  it("accepts a POST with no body and no Content-Type as {}", async () => {
    const a = action();
    const req = send();
    expect(req.headers.get("content-type")).toBeNull();
    expect(req.body).toBeNull();
    const res = await a.handler(req);
    expect(res.status).toBe(200);
    expect(a.seen).toEqual([{ body: {}, rawBody: "" }]);
  });

  it.each([
    ["Content-Length: 0 and no Content-Type (curl -X POST through a proxy)", { "content-length": "0" }],
    ["an empty form body (curl -d '')", { "content-type": "application/x-www-form-urlencoded" }],
    ["an empty JSON body", { "content-type": "application/json" }],
  ])("accepts %s as {}", async (_label, headers) => {
    const a = action();
    const res = await a.handler(send({ headers, body: "" }));
    expect(res.status).toBe(200);
    expect(a.seen).toEqual([{ body: {}, rawBody: "" }]);
  });

  it("still parses and validates a JSON body that is sent", async () => {
    const a = action();
    const json = { "content-type": "application/json" };
    const ok = await a.handler(send({ headers: json, body: '{"expire_previous":true}' }));
    expect(ok.status).toBe(200);
    expect(a.seen[0].body).toEqual({ expire_previous: true });
    const bad = await a.handler(send({ headers: json, body: '{"expire_previous":1}' }));
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.details).toEqual([{ path: "expire_previous", message: expect.any(String) }]);
  });

  it.each([
    ["a body of another type", { "content-type": "text/plain" }, "expire"],
    ["a body with no Content-Type", {}, '{"expire_previous":true}'],
    ["a body of one space with no Content-Type", {}, " "],
  ])("answers 415 for %s, before authentication", async (_label, headers, body) => {
    const a = action();
    const res = await a.handler(send({ headers, body }));
    expect(res.status).toBe(415);
    expect((await res.json()).error.code).toBe("unsupported_media_type");
    expect(a.calls.authenticate).toBe(0);
  });

  it("answers 415, not 413, for an endless body with no Content-Type, after reading one chunk", async () => {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new TextEncoder().encode("x".repeat(100)));
      },
    });
    const res = await action().handler(send({ body: stream, duplex: "half" }));
    expect(res.status).toBe(415);
    expect(pulled).toBeLessThan(3);
  });

  it("answers 413 for a JSON body over the route's limit", async () => {
    const body = JSON.stringify({ expire_previous: true, pad: "x".repeat(100) });
    const res = await action().handler(send({ headers: { "content-type": "application/json" }, body }));
    expect(res.status).toBe(413);
  });

  it("keeps 415 for a body-less POST to a route whose body is not optional", async () => {
    const a = action(false);
    const res = await a.handler(send());
    expect(res.status).toBe(415);
    expect(a.calls.authenticate).toBe(0);
  });
});

describe("pipeline: a route that also takes form posts", () => {
  const formRoute = (seen: unknown[]) =>
    createHandler({
      name: "forms",
      methods: ["POST"],
      mediaTypes: ["application/json", "application/x-www-form-urlencoded"],
      authenticate: () => Promise.resolve({ principal: "provider" }),
      schema: z.record(z.string(), z.unknown()),
      handle: ({ body }) => {
        seen.push(body);
        return Promise.resolve({ status: 200, body: { ok: true } });
      },
    }, { logger: createLogger({ fn: "forms" }, { sink: () => {} }) });
  const postAs = (contentType: string, body: string) =>
    new Request("https://project.supabase.co/forms", {
      method: "POST",
      headers: { "content-type": contentType },
      body,
    });

  it("validates a form body as the object of its parameters", async () => {
    const seen: unknown[] = [];
    const res = await formRoute(seen)(
      postAs("application/x-www-form-urlencoded; charset=utf-8", "To=%2B15551234&Body=hi+there"),
    );
    expect(res.status).toBe(200);
    expect(seen).toEqual([{ To: "+15551234", Body: "hi there" }]);
  });

  it("still takes JSON, and answers 415 naming both types for anything else", async () => {
    const seen: unknown[] = [];
    expect((await formRoute(seen)(postAs("application/json", '{"a":1}'))).status).toBe(200);
    const refused = await formRoute(seen)(postAs("text/plain", "a=1"));
    expect(refused.status).toBe(415);
    expect((await refused.json()).error.message).toBe(
      "Send the body as application/json or application/x-www-form-urlencoded.",
    );
    expect(seen).toEqual([{ a: 1 }]);
  });

  it("keeps JSON-only routes refusing a form body with 415", async () => {
    const json = createHandler({
      name: "json",
      methods: ["POST"],
      authenticate: () => Promise.resolve({ principal: "p" }),
      schema: z.record(z.string(), z.unknown()),
      handle: () => Promise.resolve({ status: 200, body: {} }),
    }, { logger: createLogger({ fn: "json" }, { sink: () => {} }) });
    const res = await json(postAs("application/x-www-form-urlencoded", "a=1"));
    expect(res.status).toBe(415);
  });
});
