import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../../supabase/functions/_shared/log.ts";
import { createWebhookEndpointsHandler } from "../../supabase/functions/webhook-endpoints/handler.ts";

// Everything here is decided before the database is touched. The client points at a closed
// port, so a request that did reach the database would answer 503 and fail its test.
const sql = postgres("postgres://nobody@127.0.0.1:1/none", { max: 1, connect_timeout: 1, onnotice: () => {} });
afterAll(() => sql.end({ timeout: 0 }));

const JWT_SECRET = "unit-test-jwt-secret-0123456789abcdef";
const SERVICE_KEY = "service-role-key-for-unit-tests";
const BASE = "http://functions.local/webhook-endpoints";

const handler = createWebhookEndpointsHandler({
  sql,
  logger: createLogger({ fn: "test" }, { sink: () => {} }),
  serviceRoleKey: SERVICE_KEY,
  jwt: { secret: JWT_SECRET },
  urlPolicy: { allowHttp: false, allowedHosts: [] },
  resolve: (host) =>
    host === "internal.partner.example" ? Promise.resolve(["10.1.2.3"]) : Promise.reject(new Error("ENOTFOUND")),
});

function jwt(claims: Record<string, unknown>, options: { secret?: string; expires?: string | number | null } = {}) {
  const token = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (options.expires !== null) token.setExpirationTime(options.expires ?? "1h");
  return token.sign(new TextEncoder().encode(options.secret ?? JWT_SECRET));
}

const TENANT = randomUUID();
const admin = () => jwt({ role: "authenticated", app_metadata: { role: "admin", tenant_id: TENANT } });

async function call(method: string, path: string, options: { token?: string; body?: unknown; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = options.type ?? "application/json";
  const res = await handler(new Request(`${BASE}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : typeof options.body === "string" ? options.body : JSON.stringify(options.body),
  }));
  return { status: res.status, headers: res.headers, body: res.status === 204 ? null : await res.json() };
}

describe("routing", () => {
  it("answers 404 not_found for a path it does not serve, before asking for credentials", async () => {
    for (const path of ["/x/y/z/w/v", "/00000000-0000-0000-0000-000000000000/unknown", "/a/deliveries/b/unknown"]) {
      const res = await call("GET", path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code).toBe("not_found");
      expect(res.body.requestId).toBeTruthy();
    }
    const outside = await handler(new Request("http://functions.local/other-function"));
    expect(outside.status).toBe(404);
  });

  it("answers 405 with Allow for a known path and another method, before anything else", async () => {
    const collection = await call("PUT", "/", { body: "{not json", type: "text/plain" });
    expect(collection.status).toBe(405);
    expect(collection.headers.get("allow")).toBe("GET, POST");
    const item = await call("POST", `/${randomUUID()}`);
    expect(item.status).toBe(405);
    expect(item.headers.get("allow")).toBe("GET, PATCH, DELETE");
    expect((await call("GET", `/${randomUUID()}/recover`)).headers.get("allow")).toBe("POST");
    expect((await call("DELETE", `/${randomUUID()}/deliveries`)).headers.get("allow")).toBe("GET");
  });

  it("answers 415 for a POST that is not JSON, before authentication", async () => {
    const res = await call("POST", "/", { body: "url=x", type: "application/x-www-form-urlencoded" });
    expect(res.status).toBe(415);
  });

  it("treats an id that is no uuid as a missing endpoint, once the caller is known", async () => {
    expect((await call("GET", "/not-a-uuid")).status).toBe(401);
    const res = await call("GET", "/not-a-uuid", { token: SERVICE_KEY });
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ code: "not_found", message: "No webhook endpoint with this id." });
  });
});

describe("authentication and authorization", () => {
  it("answers 401 without a usable credential", async () => {
    const tokens = [
      undefined,
      "wrong-key",
      await jwt({ role: "service_role" }, { secret: "another-secret-0123456789abcdef" }),
      await jwt({ role: "service_role" }, { expires: Math.floor(Date.now() / 1000) - 60 }),
      // A token that never expires is not accepted.
      await jwt({ role: "service_role" }, { expires: null }),
    ];
    for (const token of tokens) {
      const res = await call("GET", "/", { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
  });

  it("answers 403 to a valid token that is not an admin's, once the body is valid", async () => {
    const user = await jwt({ role: "authenticated", app_metadata: { tenant_id: TENANT } });
    expect((await call("GET", "/", { token: user })).status).toBe(403);
    // 400 comes before 403 in the contract's order.
    expect((await call("POST", "/", { token: user, body: { url: 42 } })).status).toBe(400);
    const valid = await call("POST", "/", { token: user, body: { url: "https://10.0.0.5/" } });
    expect(valid.status).toBe(403);
    expect(valid.body.error.code).toBe("forbidden");
  });

  it("answers 403 to an admin token without a tenant", async () => {
    const token = await jwt({ role: "authenticated", app_metadata: { role: "admin" } });
    const res = await call("GET", "/", { token });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toMatch(/tenant/);
  });

  it("lets a tenant admin create only for its own tenant, and list only its own", async () => {
    const token = await admin();
    const other = await call("POST", "/", { token, body: { url: "https://10.0.0.5/", tenant_id: randomUUID() } });
    expect(other.status).toBe(403);
    // Its own tenant passes authorization and reaches the URL check.
    const own = await call("POST", "/", { token, body: { url: "https://10.0.0.5/", tenant_id: TENANT } });
    expect(own.body.error.code).toBe("forbidden_url");
    expect((await call("GET", `/?tenant_id=${randomUUID()}`, { token })).status).toBe(403);
  });
});

describe("validation", () => {
  const create = async (body: unknown) => call("POST", "/", { token: SERVICE_KEY, body });

  it("checks event types against the catalogue, with the failing entries as details", async () => {
    const res = await create({ url: "https://10.0.0.5/", event_types: ["order.created", "order.exploded", "ord*", "nothing.*"] });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: "event_types.1", message: 'unknown event type "order.exploded"' },
      { path: "event_types.2", message: 'unknown event type "ord*"' },
      { path: "event_types.3", message: '"nothing.*" matches no event type' },
    ]);
    // Accepted patterns get as far as the URL check.
    const ok = await create({ url: "https://10.0.0.5/", event_types: ["*", "order.*", "message.attempt.*", "webhook.test"] });
    expect(ok.body.error.code).toBe("forbidden_url");
    expect((await create({ url: "https://10.0.0.5/", event_types: [] })).body.error.code).toBe("invalid_request");
  });

  it("refuses unknown fields, so nobody believes they set a secret", async () => {
    const res = await create({ url: "https://10.0.0.5/", secret: "whsec_mine" });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].message).toMatch(/secret/);
  });

  it("refuses URLs that cannot receive webhooks, naming the reason but never an internal address", async () => {
    const cases: [string, string][] = [
      ["not a url", "invalid_url"],
      ["https://hooks.example/#frag", "invalid_url"],
      ["https://hooks.example/#", "invalid_url"],
      ["http://hooks.example/", "insecure_scheme"],
      ["https://user:pw@hooks.example/", "credentials_in_url"],
      ["https://nowhere.example/", "unresolvable"],
      ["https://10.0.0.5/", "forbidden_url"],
      ["https://169.254.169.254/latest/meta-data/", "forbidden_url"],
      ["https://[::ffff:127.0.0.1]/", "forbidden_url"],
      ["https://metadata.google.internal/", "forbidden_url"],
      ["https://internal.partner.example/hook", "forbidden_url"],
    ];
    for (const [url, code] of cases) {
      const res = await create({ url });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe(code);
      expect(res.body.error.details, url).toEqual([{ path: "url", message: res.body.error.message }]);
    }
    const internal = await create({ url: "https://internal.partner.example/hook" });
    expect(internal.body.error.message).toBe("internal.partner.example resolves to a private address.");
    expect(JSON.stringify(internal.body)).not.toContain("10.1.2.3");
  });

  it("checks the URL of an update too, and wants at least one field", async () => {
    const id = randomUUID();
    const bad = await call("PATCH", `/${id}`, { token: SERVICE_KEY, body: { url: "https://192.168.1.1/" } });
    expect(bad.body.error.code).toBe("forbidden_url");
    const empty = await call("PATCH", `/${id}`, { token: SERVICE_KEY, body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details[0].message).toBe("send at least one field to change");
  });

  it("validates the query string, naming the parameter", async () => {
    const limit = await call("GET", "/?limit=1000", { token: SERVICE_KEY });
    expect(limit.status).toBe(400);
    expect(limit.body.error.details[0].path).toBe("query.limit");
    expect((await call("GET", "/?cursor=garbage", { token: SERVICE_KEY })).body.error.details[0].path).toBe("query.cursor");
    expect((await call("GET", "/?colour=red", { token: SERVICE_KEY })).status).toBe(400);
    const status = await call("GET", `/${randomUUID()}/deliveries?status=LOST`, { token: SERVICE_KEY });
    expect(status.body.error.details[0].path).toBe("query.status");
  });

  it("wants a recovery window with from before to", async () => {
    const id = randomUUID();
    const backwards = await call("POST", `/${id}/recover`, {
      token: SERVICE_KEY,
      body: { from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" },
    });
    expect(backwards.status).toBe(400);
    expect(backwards.body.error.details).toEqual([{ path: "to", message: "must be after from" }]);
    const notDates = await call("POST", `/${id}/recover`, { token: SERVICE_KEY, body: { from: "yesterday", to: "now" } });
    expect(notDates.body.error.details.map((d: { path: string }) => d.path)).toEqual(["from", "to"]);
  });

  it("takes no fields on the action routes", async () => {
    const res = await call("POST", `/${randomUUID()}/rotate-secret`, { token: SERVICE_KEY, body: { secret: "x" } });
    expect(res.status).toBe(400);
  });
});
