import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { serveOperations } from "../../supabase/functions/_shared/http/admin-api.ts";
import { withCors } from "../../supabase/functions/_shared/http/cors.ts";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import { createHandler, type Route } from "../../supabase/functions/_shared/http/pipeline.ts";
import { operation } from "../../supabase/functions/_shared/http/router.ts";
import { createLogger, type LogLevel } from "../../supabase/functions/_shared/log.ts";
import { createInboundWebhookHandler } from "../../supabase/functions/inbound-webhook/handler.ts";

// Nothing here reaches the database: the client points at a closed port.
const sql = postgres("postgres://nobody@127.0.0.1:1/none", { max: 1, connect_timeout: 1, onnotice: () => {} });
afterAll(() => sql.end({ timeout: 0 }));

const BASE = "http://functions.local";

/** A logger whose lines land in `lines`, parsed. */
function capture(minLevel: LogLevel = "info") {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ fn: "orders" }, { minLevel, sink: (line) => lines.push(JSON.parse(line)) });
  return { logger, lines, access: () => lines.filter((line) => line.msg === "access") };
}

/** POST /orders/:id: a signature header, a small JSON body; `boom` in the body throws. */
function ordersRoute(log: ReturnType<typeof capture>) {
  const route: Route<string, { sku: string }> = {
    name: "orders",
    methods: ["POST"],
    pattern: "/:id",
    maxBodyBytes: 64,
    authenticate: (ctx) =>
      ctx.req.headers.get("x-signature") === "good"
        ? Promise.resolve({ principal: "acme" })
        : Promise.reject(new HttpError(401, "invalid_signature", "The signature does not match.")),
    schema: z.object({ sku: z.string() }),
    handle: ({ body }) => {
      if (body.sku === "boom") throw new Error("unexpected");
      return Promise.resolve({ status: 201, body: { ok: true } });
    },
  };
  return createHandler(route, { logger: log.logger });
}

function post(path: string, body: string, headers: Record<string, string> = {}, method = "POST") {
  return new Request(`${BASE}${path}`, {
    method,
    headers: { "content-type": "application/json", "x-signature": "good", ...headers },
    body: method === "GET" ? undefined : body,
  });
}

describe("access log through the pipeline", () => {
  it("writes one line with the request id, function, route pattern, status, duration and outcome", async () => {
    const log = capture();
    const handler = ordersRoute(log);
    const res = await handler(post("/orders/1234?apikey=sk_live_secret", '{"sku":"mug"}', { "x-request-id": "req-1" }));
    expect(res.status).toBe(201);
    const [line, ...more] = log.access();
    expect(more).toEqual([]);
    expect(line).toMatchObject({
      level: "info",
      msg: "access",
      requestId: "req-1",
      fn: "orders",
      route: "POST /orders/:id",
      status: 201,
      outcome: "ok",
    });
    expect(typeof line.duration_ms).toBe("number");
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    // Neither the query string (api keys travel there) nor the id nor a header reaches the log.
    const text = JSON.stringify(log.lines);
    expect(text).not.toContain("sk_live_secret");
    expect(text).not.toContain("1234");
    expect(text).not.toContain("x-signature");
  });

  it.each([
    ["405", post("/orders/1", '{"sku":"mug"}', {}, "PUT"), 405, "method_not_allowed", "PUT /orders/:id"],
    ["415", post("/orders/1", "sku=mug", { "content-type": "text/plain" }), 415, "unsupported_media_type", null],
    ["413", post("/orders/1", JSON.stringify({ sku: "x".repeat(100) })), 413, "payload_too_large", null],
    ["401", post("/orders/1", '{"sku":"mug"}', { "x-signature": "bad" }), 401, "invalid_signature", null],
    ["400", post("/orders/1", "{not json"), 400, "invalid_json", null],
    ["500", post("/orders/1", '{"sku":"boom"}'), 500, "internal_error", null],
  ])("a %s writes exactly one access line, its code as the outcome", async (_, req, status, outcome, route) => {
    const log = capture();
    const res = await ordersRoute(log)(req);
    expect(res.status).toBe(status);
    expect(log.access()).toEqual([
      expect.objectContaining({ route: route ?? "POST /orders/:id", status, outcome, requestId: expect.any(String) }),
    ]);
  });

  it("is an info line: LOG_LEVEL=warn drops it with the other info lines", async () => {
    const log = capture("warn");
    await ordersRoute(log)(post("/orders/1", '{"sku":"mug"}'));
    expect(log.access()).toEqual([]);
  });
});

describe("access log of the refusals made before a pipeline", () => {
  const ops = (log: ReturnType<typeof capture>) =>
    serveOperations("things", [
      operation("things", {
        method: "GET",
        path: "/:id/parts",
        schema: z.object({}),
        handle: () => Promise.resolve({ status: 200, body: {} }),
      }, () => Promise.reject(new HttpError(401, "unauthorized", "No key.")), { logger: log.logger }),
    ], log.logger);

  it("a management API's 404, 405 and pipeline refusals each write one line", async () => {
    const log = capture();
    const handler = ops(log);
    expect((await handler(new Request(`${BASE}/things/nope/at/all?key=secret`))).status).toBe(404);
    expect((await handler(new Request(`${BASE}/things/${crypto.randomUUID()}/parts`, { method: "DELETE" }))).status)
      .toBe(405);
    expect((await handler(new Request(`${BASE}/things/${crypto.randomUUID()}/parts?key=secret`))).status).toBe(401);
    expect(log.access().map(({ route, status, outcome }) => ({ route, status, outcome }))).toEqual([
      { route: "GET /things/*", status: 404, outcome: "not_found" },
      { route: "DELETE /things/:id/parts", status: 405, outcome: "method_not_allowed" },
      { route: "GET /things/:id/parts", status: 401, outcome: "unauthorized" },
    ]);
    expect(JSON.stringify(log.lines)).not.toContain("secret");
  });

  it("inbound-webhook's 404 for a path that names no source writes one line", async () => {
    const log = capture();
    const handler = createInboundWebhookHandler({
      logger: log.logger,
      sql,
      sources: { get: () => Promise.resolve(null) },
      verifiers: {} as never,
      publicUrl: null,
      batchLimit: 1,
      budgetMs: 1,
    });
    const res = await handler(new Request(`${BASE}/inbound-webhook/a/b`, { method: "POST" }));
    expect(res.status).toBe(404);
    expect(log.access()).toEqual([
      expect.objectContaining({ fn: "inbound-webhook", route: "POST /inbound-webhook/*", status: 404 }),
    ]);
  });

  it("a refused origin and a preflight write one line each; a request passed through gets the pipeline's", async () => {
    const log = capture();
    const handler = withCors({ allowedOrigins: ["https://shop.example"], methods: ["POST"] }, ordersRoute(log), {
      fn: "orders",
      logger: log.logger,
    });
    await handler(post("/orders", '{"sku":"mug"}', { origin: "https://evil.example" }));
    await handler(new Request(`${BASE}/orders`, { method: "OPTIONS", headers: { origin: "https://shop.example" } }));
    await handler(post("/orders/1", '{"sku":"mug"}', { origin: "https://shop.example" }));
    expect(log.access().map(({ route, status, outcome }) => ({ route, status, outcome }))).toEqual([
      { route: "POST /orders", status: 403, outcome: "origin_not_allowed" },
      { route: "OPTIONS /orders", status: 204, outcome: "ok" },
      { route: "POST /orders/:id", status: 201, outcome: "ok" },
    ]);
  });
});
