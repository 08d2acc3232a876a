import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedFunction, serveFunction } from "../../dev/stack/functions.ts";
import { functionUrl, signJwt, stack, testSql } from "../helpers/stack.ts";

// These tests share the stack's database with other files: every tenant is a fresh uuid, and
// endpoints whose deliveries are inspected are inactive, so no dispatcher run touches them.
const sql = testSql();
const SERVICE = stack.SUPABASE_SERVICE_ROLE_KEY;
const env = { ...stack, SUPABASE_DB_URL: stack.DATABASE_URL, LOG_LEVEL: "error" } as Record<string, string>;
const served: ServedFunction[] = [];
const created: string[] = [];

/** The API as local development runs it: http and 127.0.0.1 / localhost receivers allowed. */
let api = functionUrl("webhook-endpoints");
/** The API as production runs it: https only, no allowlist. */
let strictApi: string;

const instanceUrl = (fn: ServedFunction) => `http://127.0.0.1:${fn.port}/webhook-endpoints`;

beforeAll(async () => {
  const strict = await serveFunction("webhook-endpoints", { ...env, WEBHOOK_ALLOW_HTTP: "false", WEBHOOK_ALLOWED_HOSTS: "" }, () => {});
  served.push(strict);
  strictApi = instanceUrl(strict);
  // The stack's own instance allows local receivers once the stack sets the local policy;
  // until then these tests bring an instance that does.
  const probe = await call("POST", "/", { body: { url: receiver("probe"), active: false } });
  if (probe.status === 201) {
    await sql`delete from public.webhook_endpoints where id = ${probe.body.id}`;
  } else {
    const dev = await serveFunction("webhook-endpoints", {
      ...env,
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1,localhost",
    }, () => {});
    served.push(dev);
    api = instanceUrl(dev);
  }
}, 60_000);

afterAll(async () => {
  await sql`delete from public.webhook_endpoints where id = any(${created}::uuid[])`;
  await Promise.all(served.map((fn) => fn.stop()));
});

/** A receiver URL nobody listens on: nothing here needs a delivery to arrive. */
const receiver = (tag: string) => `http://127.0.0.1:9/${tag}`;

interface CallOptions {
  token?: string | null;
  body?: unknown;
  base?: string;
}

async function call(method: string, path: string, options: CallOptions = {}) {
  const token = options.token === undefined ? SERVICE : options.token;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${options.base ?? api}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
}

/** Creates an endpoint (platform caller unless `token`), remembering it for clean-up. */
async function createEndpoint(body: Record<string, unknown> = {}, token?: string) {
  const res = await call("POST", "/", { token, body: { url: receiver(randomUUID()), ...body } });
  expect(res.status, res.text).toBe(201);
  created.push(res.body.id);
  return res.body as Record<string, unknown> & { id: string; secret: string };
}

const adminOf = (tenantId: string) => signJwt({ role: "authenticated", app_metadata: { role: "admin", tenant_id: tenantId } });

/** An event and one delivery of it to `endpointId`, in the given state, created at `at`. */
async function delivery(endpointId: string, status: string, at = new Date(), options: { lockedFor?: number } = {}) {
  const [row] = await sql`
    with ev as (
      insert into public.outbound_events (type, tenant_id, api_version, data)
      select 'order.created', tenant_id, public.webhook_api_version(), '{"object":{}}'::jsonb
      from public.webhook_endpoints where id = ${endpointId}
      returning id, tenant_id
    )
    insert into public.webhook_deliveries (event_id, endpoint_id, tenant_id, status, attempts, created_at,
                                           completed_at, locked_until)
    select ev.id, ${endpointId}, ev.tenant_id, ${status}, ${status === "PENDING" ? 0 : 6}, ${at},
           ${status === "PENDING" ? null : at},
           ${options.lockedFor ? new Date(Date.now() + options.lockedFor * 1000) : null}
    from ev
    returning id, event_id`;
  return { id: row.id as string, eventId: row.event_id as string };
}

async function deliveryRow(id: string) {
  const [row] = await sql`select * from public.webhook_deliveries where id = ${id}`;
  return row;
}

const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000);

describe("create and read", () => {
  it("creates an endpoint with defaults and shows its secret once", async () => {
    const endpoint = await createEndpoint({ description: "orders feed" });
    expect(endpoint).toMatchObject({
      tenant_id: null,
      description: "orders feed",
      event_types: ["*"],
      active: true,
      legacy_signature: false,
      rate_limit_per_minute: 100,
      rate_limit_burst: 250,
      max_in_flight: 10,
      circuit_state: "closed",
      consecutive_failures: 0,
      disabled_at: null,
    });
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(endpoint).not.toHaveProperty("previous_secret");
    const [row] = await sql`select secret from public.webhook_endpoints where id = ${endpoint.id}`;
    expect(row.secret).toBe(endpoint.secret);

    const got = await call("GET", `/${endpoint.id}`);
    expect(got.status).toBe(200);
    const { secret: _, ...shown } = endpoint;
    expect(got.body).toEqual(shown);
    expect(got.text).not.toContain(endpoint.secret);
    expect(got.body).not.toHaveProperty("secret");

    const list = await call("GET", "/?limit=100");
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(endpoint.secret);
    expect(list.body.data.every((e: object) => !("secret" in e) && !("previous_secret" in e))).toBe(true);
    // A platform endpoint for every event would collect other files' events while it lives.
    await sql`update public.webhook_endpoints set active = false where id = ${endpoint.id}`;
  });

  it("stores every setting it is given", async () => {
    const endpoint = await createEndpoint({
      event_types: ["order.*", "payment.completed", "order.*"],
      active: false,
      legacy_signature: true,
      rate_limit_per_minute: 30,
      rate_limit_burst: 5,
      max_in_flight: 2,
    });
    expect(endpoint).toMatchObject({
      event_types: ["order.*", "payment.completed"],
      active: false,
      legacy_signature: true,
      rate_limit_per_minute: 30,
      rate_limit_burst: 5,
      max_in_flight: 2,
    });
  });

  it("refuses unknown event types and wildcards that match nothing, with details", async () => {
    const res = await call("POST", "/", { body: { url: receiver("x"), event_types: ["order.created", "order.exploded", "foo.*"] } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toEqual(["event_types.1", "event_types.2"]);
  });
});

describe("the URL policy", () => {
  it("refuses, without allow-http and allowlist, everything a production API must refuse", async () => {
    const cases: [string, string, RegExp][] = [
      ["http://hooks.partner.example/x", "insecure_scheme", /https/],
      ["https://user:secret@hooks.partner.example/x", "credentials_in_url", /username or password/],
      ["https://10.0.0.5/hook", "forbidden_url", /private/],
      ["https://169.254.169.254/latest/meta-data/", "forbidden_url", /cloud metadata/],
      ["https://localhost/hook", "forbidden_url", /^localhost resolves to a loopback address\.$/],
      ["https://[::1]/hook", "forbidden_url", /loopback/],
      ["https://hooks.partner.example/x#section", "invalid_url", /fragment/],
    ];
    for (const [url, code, message] of cases) {
      const res = await call("POST", "/", { base: strictApi, body: { url } });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe(code);
      expect(res.body.error.message, url).toMatch(message);
    }
  });

  it("refuses a forbidden URL in an update and leaves the endpoint as it was", async () => {
    const endpoint = await createEndpoint({ active: false });
    const res = await call("PATCH", `/${endpoint.id}`, { base: strictApi, body: { url: "https://192.168.0.10/" } });
    expect(res.body.error.code).toBe("forbidden_url");
    const [row] = await sql`select url from public.webhook_endpoints where id = ${endpoint.id}`;
    expect(row.url).toBe(endpoint.url);
  });

  it("accepts local receivers where local development allows them, and nothing more", async () => {
    const local = await createEndpoint({ url: "http://localhost:9/hook", active: false });
    expect(local.url).toBe("http://localhost:9/hook");
    expect((await call("POST", "/", { body: { url: "http://10.0.0.5/hook" } })).body.error.code).toBe("forbidden_url");
    expect((await call("POST", "/", { body: { url: "http://u:p@127.0.0.1:9/" } })).body.error.code).toBe("credentials_in_url");
  });
});

describe("list, update, delete", () => {
  it("lists newest first, a page at a time", async () => {
    const tenant = randomUUID();
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push((await createEndpoint({ tenant_id: tenant, active: false })).id);
    const first = await call("GET", `/?tenant_id=${tenant}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call("GET", `/?tenant_id=${tenant}&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body).toEqual({ data: [expect.objectContaining({ id: ids[0], tenant_id: tenant })], next_cursor: null });
  });

  it("updates the fields it is sent and nothing else", async () => {
    const endpoint = await createEndpoint({ description: "before", active: false });
    const res = await call("PATCH", `/${endpoint.id}`, {
      body: {
        url: receiver("moved"),
        event_types: ["order.*"],
        description: null,
        legacy_signature: true,
        rate_limit_per_minute: 10,
        rate_limit_burst: 20,
        max_in_flight: 3,
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      url: receiver("moved"),
      event_types: ["order.*"],
      description: null,
      legacy_signature: true,
      rate_limit_per_minute: 10,
      rate_limit_burst: 20,
      max_in_flight: 3,
      active: false,
    });
    expect(res.body).not.toHaveProperty("secret");
    expect(Date.parse(res.body.updated_at)).toBeGreaterThan(Date.parse(endpoint.updated_at as string));
  });

  it("re-enables a disabled endpoint from scratch", async () => {
    const endpoint = await createEndpoint({ active: false });
    await sql`
      update public.webhook_endpoints set disabled_at = now(), disabled_reason = 'endpoint answered 410 Gone',
        consecutive_failures = 9, failing_since = now() - interval '2 days', circuit_state = 'open',
        circuit_changed_at = now()
      where id = ${endpoint.id}`;
    const res = await call("PATCH", `/${endpoint.id}`, { body: { active: true } });
    expect(res.body).toMatchObject({
      active: true,
      disabled_at: null,
      disabled_reason: null,
      consecutive_failures: 0,
      failing_since: null,
      circuit_state: "closed",
    });
    await call("PATCH", `/${endpoint.id}`, { body: { active: false } });
  });

  it("deletes an endpoint, and then knows it no more", async () => {
    const endpoint = await createEndpoint({ active: false });
    const res = await call("DELETE", `/${endpoint.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");
    expect((await call("GET", `/${endpoint.id}`)).status).toBe(404);
    expect((await call("DELETE", `/${endpoint.id}`)).status).toBe(404);
  });

  it("answers 404 for an unknown path and 405 with Allow for a wrong method", async () => {
    const unknown = await call("GET", `/${randomUUID()}/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe("not_found");
    const wrong = await call("PUT", `/${randomUUID()}`, { body: {} });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, PATCH, DELETE");
  });
});

describe("secret rotation", () => {
  it("returns a new secret and keeps the old one signing for 24 hours, shown nowhere", async () => {
    const endpoint = await createEndpoint({ active: false });
    const before = Date.now();
    const res = await call("POST", `/${endpoint.id}/rotate-secret`);
    expect(res.status).toBe(200);
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(res.body.secret).not.toBe(endpoint.secret);
    expect(res.text).not.toContain(endpoint.secret);
    expect(res.body).not.toHaveProperty("previous_secret");
    const expires = Date.parse(res.body.previous_secret_expires_at);
    expect(expires - before).toBeGreaterThan(24 * 3_600_000 - 60_000);
    expect(expires - before).toBeLessThan(24 * 3_600_000 + 60_000);

    const [row] = await sql`select secret, previous_secret from public.webhook_endpoints where id = ${endpoint.id}`;
    expect(row).toEqual({ secret: res.body.secret, previous_secret: endpoint.secret });
    for (const read of [await call("GET", `/${endpoint.id}`), await call("GET", "/?limit=100")]) {
      expect(read.text).not.toContain(endpoint.secret);
      expect(read.text).not.toContain(res.body.secret);
    }
  });
});

describe("rotating twice within 24 hours", () => {
  it("refuses a second rotation while the first one's secret still signs, so that secret keeps its 24 hours", async () => {
    const endpoint = await createEndpoint({ active: false });
    const first = await call("POST", `/${endpoint.id}/rotate-secret`);
    const second = await call("POST", `/${endpoint.id}/rotate-secret`);
    expect(second.status).toBe(409);
    expect(second.body.error.code).toBe("rotation_in_progress");
    expect(second.body.error.message).toContain(first.body.previous_secret_expires_at.slice(0, 16));
    const [row] = await sql`select secret, previous_secret from public.webhook_endpoints where id = ${endpoint.id}`;
    expect(row).toEqual({ secret: first.body.secret, previous_secret: endpoint.secret });
  });

  it("rotates again when told to end the earlier secret now, and after it has expired", async () => {
    const endpoint = await createEndpoint({ active: false });
    const first = await call("POST", `/${endpoint.id}/rotate-secret`);
    const forced = await call("POST", `/${endpoint.id}/rotate-secret`, { body: { expire_previous: true } });
    expect(forced.status).toBe(200);
    const [row] = await sql`select previous_secret from public.webhook_endpoints where id = ${endpoint.id}`;
    expect(row.previous_secret).toBe(first.body.secret);

    await sql`update public.webhook_endpoints set previous_secret_expires_at = now() - interval '1 second'
              where id = ${endpoint.id}`;
    expect((await call("POST", `/${endpoint.id}/rotate-secret`)).status).toBe(200);
    expect((await call("POST", `/${endpoint.id}/rotate-secret`, { body: { expire: true } })).status).toBe(400);
  });
});

describe("test events", () => {
  it("queues a webhook.test event with exactly one delivery, to this endpoint", async () => {
    const tenant = randomUUID();
    const endpoint = await createEndpoint({ tenant_id: tenant, event_types: ["payment.*"], active: false });
    const res = await call("POST", `/${endpoint.id}/test`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ event_id: expect.stringMatching(/^evt_/) });
    const deliveries = await sql`
      select d.endpoint_id, d.tenant_id, ev.type from public.webhook_deliveries d
      join public.outbound_events ev on ev.id = d.event_id where d.event_id = ${res.body.event_id}`;
    expect(deliveries).toEqual([{ endpoint_id: endpoint.id, tenant_id: tenant, type: "webhook.test" }]);
  });
});

describe("deliveries", () => {
  it("lists an endpoint's deliveries newest first, each with its attempts", async () => {
    const endpoint = await createEndpoint({ active: false });
    const other = await createEndpoint({ active: false });
    const old = await delivery(endpoint.id, "FAILED", hoursAgo(2));
    const recent = await delivery(endpoint.id, "SUCCESS", hoursAgo(1));
    await delivery(other.id, "FAILED", hoursAgo(1));
    await sql`
      insert into public.webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome)
      values (${old.id}, 2, now() - interval '90 minutes', 30, 400, 'bad request', null, 'failed'),
             (${old.id}, 1, now() - interval '2 hours', 5000, null, null, 'timeout', 'retry'),
             (${recent.id}, 1, now() - interval '1 hour', 12, 200, 'ok', null, 'success')`;

    const res = await call("GET", `/${endpoint.id}/deliveries`);
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data.map((d: { id: string }) => d.id)).toEqual([recent.id, old.id]);
    expect(res.body.data[1]).toMatchObject({ event_id: old.eventId, event_type: "order.created", status: "FAILED", attempt_count: 6 });
    expect(res.body.data[1].attempts).toEqual([
      { attempt: 1, started_at: expect.any(String), duration_ms: 5000, status_code: null, response_body: null, error: "timeout", outcome: "retry" },
      { attempt: 2, started_at: expect.any(String), duration_ms: 30, status_code: 400, response_body: "bad request", error: null, outcome: "failed" },
    ]);
    expect(res.body.data[0].attempts).toHaveLength(1);

    const failed = await call("GET", `/${endpoint.id}/deliveries?status=FAILED`);
    expect(failed.body.data.map((d: { id: string }) => d.id)).toEqual([old.id]);
    const page = await call("GET", `/${endpoint.id}/deliveries?limit=1`);
    expect(page.body.data.map((d: { id: string }) => d.id)).toEqual([recent.id]);
    const next = await call("GET", `/${endpoint.id}/deliveries?limit=1&cursor=${page.body.next_cursor}`);
    expect(next.body.data.map((d: { id: string }) => d.id)).toEqual([old.id]);
    expect(next.body.data[0].attempts).toHaveLength(2);
  });

  it("answers an empty list for an endpoint without deliveries, and 404 for no endpoint", async () => {
    const endpoint = await createEndpoint({ active: false });
    expect((await call("GET", `/${endpoint.id}/deliveries`)).body).toEqual({ data: [], next_cursor: null });
    expect((await call("GET", `/${randomUUID()}/deliveries`)).status).toBe(404);
  });
});

describe("replay and recovery", () => {
  it("replays one delivery of this endpoint from scratch", async () => {
    const endpoint = await createEndpoint({ active: false });
    const failed = await delivery(endpoint.id, "FAILED", hoursAgo(1));
    const res = await call("POST", `/${endpoint.id}/deliveries/${failed.id}/replay`);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ delivery_id: failed.id, status: "PENDING" });
    expect(await deliveryRow(failed.id)).toMatchObject({ status: "PENDING", attempts: 0, completed_at: null });
  });

  it("answers 404 for another endpoint's delivery and 409 for one in flight", async () => {
    const endpoint = await createEndpoint({ active: false });
    const other = await createEndpoint({ active: false });
    const theirs = await delivery(other.id, "FAILED");
    const res = await call("POST", `/${endpoint.id}/deliveries/${theirs.id}/replay`);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe("No delivery with this id for this endpoint.");
    expect((await deliveryRow(theirs.id)).status).toBe("FAILED");

    const inFlight = await delivery(endpoint.id, "PENDING", new Date(), { lockedFor: 300 });
    const busy = await call("POST", `/${endpoint.id}/deliveries/${inFlight.id}/replay`);
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe("delivery_in_flight");
  });

  it("recovers only failed and exhausted deliveries created within the window", async () => {
    const endpoint = await createEndpoint({ active: false });
    const other = await createEndpoint({ active: false });
    const inWindow = [await delivery(endpoint.id, "FAILED", hoursAgo(4)), await delivery(endpoint.id, "RETRY_EXHAUSTED", hoursAgo(3))];
    const untouched = [
      await delivery(endpoint.id, "SUCCESS", hoursAgo(3)),
      await delivery(endpoint.id, "FAILED", hoursAgo(10)),
      await delivery(endpoint.id, "RETRY_EXHAUSTED", hoursAgo(1)),
      await delivery(other.id, "FAILED", hoursAgo(3)),
    ];
    const res = await call("POST", `/${endpoint.id}/recover`, {
      body: { from: hoursAgo(5).toISOString(), to: hoursAgo(2).toISOString() },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ replayed: 2 });
    for (const d of inWindow) expect(await deliveryRow(d.id)).toMatchObject({ status: "PENDING", attempts: 0 });
    expect((await Promise.all(untouched.map((d) => deliveryRow(d.id)))).map((row) => row.status)).toEqual([
      "SUCCESS",
      "FAILED",
      "RETRY_EXHAUSTED",
      "FAILED",
    ]);
  });

  it("validates the window", async () => {
    const endpoint = await createEndpoint({ active: false });
    const res = await call("POST", `/${endpoint.id}/recover`, { body: { from: hoursAgo(1).toISOString(), to: hoursAgo(2).toISOString() } });
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: "to", message: "must be after from" }]);
  });
});

describe("tenant isolation", () => {
  const tenantA = randomUUID();
  const tenantB = randomUUID();
  let tokenA: string;
  let tokenB: string;
  let endpointA: Awaited<ReturnType<typeof createEndpoint>>;
  let endpointB: Awaited<ReturnType<typeof createEndpoint>>;
  let deliveryA: { id: string };

  beforeAll(async () => {
    [tokenA, tokenB] = await Promise.all([adminOf(tenantA), adminOf(tenantB)]);
    endpointA = await createEndpoint({ active: false, description: "A's" }, tokenA);
    endpointB = await createEndpoint({ active: false, description: "B's" }, tokenB);
    deliveryA = await delivery(endpointA.id, "FAILED", hoursAgo(1));
  });

  it("scopes what a tenant admin creates to its tenant", () => {
    expect(endpointA.tenant_id).toBe(tenantA);
    expect(endpointB.tenant_id).toBe(tenantB);
  });

  it("answers another tenant's rows exactly like missing ones", async () => {
    const missing = await call("GET", `/${randomUUID()}`, { token: tokenB });
    const probes: [string, string, unknown?][] = [
      ["GET", `/${endpointA.id}`],
      ["PATCH", `/${endpointA.id}`, { description: "taken over" }],
      ["DELETE", `/${endpointA.id}`],
      ["POST", `/${endpointA.id}/rotate-secret`],
      ["POST", `/${endpointA.id}/test`],
      ["GET", `/${endpointA.id}/deliveries`],
      ["POST", `/${endpointA.id}/deliveries/${deliveryA.id}/replay`],
      ["POST", `/${endpointB.id}/deliveries/${deliveryA.id}/replay`],
      ["POST", `/${endpointA.id}/recover`, { from: hoursAgo(5).toISOString(), to: new Date().toISOString() }],
    ];
    for (const [method, path, body] of probes) {
      const res = await call(method, path, { token: tokenB, body });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await call("GET", `/${endpointA.id}`, { token: tokenB })).body.error).toEqual(missing.body.error);

    const [row] = await sql`select description, secret from public.webhook_endpoints where id = ${endpointA.id}`;
    expect(row).toEqual({ description: "A's", secret: endpointA.secret });
    expect((await deliveryRow(deliveryA.id)).status).toBe("FAILED");
    expect(await sql`select 1 from public.webhook_deliveries where endpoint_id = ${endpointA.id}`).toHaveLength(1);
  });

  it("lists only the caller's own endpoints", async () => {
    const list = await call("GET", "/?limit=100", { token: tokenB });
    expect(list.status).toBe(200);
    expect(list.body.data.map((e: { id: string }) => e.id)).toEqual([endpointB.id]);
    expect((await call("GET", `/?tenant_id=${tenantA}`, { token: tokenB })).status).toBe(403);
  });

  it("lets a tenant admin see and replay its own deliveries", async () => {
    const list = await call("GET", `/${endpointA.id}/deliveries`, { token: tokenA });
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([deliveryA.id]);
    const replay = await call("POST", `/${endpointA.id}/deliveries/${deliveryA.id}/replay`, { token: tokenA });
    expect(replay.status).toBe(202);
    await sql`update public.webhook_deliveries set status = 'FAILED' where id = ${deliveryA.id}`;
  });

  it("refuses a tenant admin who names another tenant", async () => {
    const res = await call("POST", "/", { token: tokenA, body: { url: receiver("x"), tenant_id: tenantB } });
    expect(res.status).toBe(403);
  });

  it("answers 401 without credentials and 403 to a token that is not an admin's", async () => {
    for (const token of [null, "not-a-key", await signJwt({ role: "authenticated" }).then((t) => t.slice(0, -2))]) {
      const res = await call("GET", "/", { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
    const user = await signJwt({ role: "authenticated", app_metadata: { tenant_id: tenantA } });
    expect((await call("GET", `/${endpointA.id}`, { token: user })).status).toBe(403);
    const anon = stack.SUPABASE_ANON_KEY;
    expect((await call("GET", "/", { token: anon })).status).toBe(403);
  });

  it("lets the platform see every tenant, and narrow to one", async () => {
    expect((await call("GET", `/${endpointA.id}`)).body.description).toBe("A's");
    expect((await call("GET", `/${endpointB.id}`)).body.description).toBe("B's");
    const onlyA = await call("GET", `/?tenant_id=${tenantA}`);
    expect(onlyA.body.data.map((e: { id: string }) => e.id)).toEqual([endpointA.id]);
    // A JWT with the service_role claim counts as the platform as well.
    const platformJwt = await signJwt({ role: "service_role" });
    expect((await call("GET", `/${endpointB.id}`, { token: platformJwt })).status).toBe(200);
  });
});

describe("fan-out by publish_event", () => {
  it("delivers to the tenant's subscribed active endpoints and the platform's, nobody else", async () => {
    const tenant = randomUUID();
    const other = randomUUID();
    const make = async (event_types: string[], tenant_id: string | null, active = true) =>
      (await createEndpoint({ event_types, tenant_id, active })).id;
    const wildcard = await make(["order.*"], tenant);
    const exact = await make(["order.updated"], tenant);
    const everything = await make(["*"], tenant);
    const platform = await make(["order.updated"], null);
    const otherType = await make(["payment.*", "order.created"], tenant);
    const inactive = await make(["*"], tenant, false);
    const otherTenant = await make(["*"], other);
    const platformOtherType = await make(["product.*"], null);
    // Not to be delivered to while they exist: make them inactive again right after publishing.
    const active = [wildcard, exact, everything, platform, otherType, otherTenant, platformOtherType];

    const [{ id }] = await sql`select public.publish_event('order.updated', ${tenant}, '{}'::jsonb) as id`;
    await sql`update public.webhook_endpoints set active = false where id = any(${active}::uuid[])`;
    const rows = await sql`select endpoint_id, tenant_id from public.webhook_deliveries where event_id = ${id}`;
    const byEndpoint = new Map(rows.map((row) => [row.endpoint_id, row.tenant_id]));

    for (const receiving of [wildcard, exact, everything]) expect(byEndpoint.get(receiving)).toBe(tenant);
    expect(byEndpoint.has(platform)).toBe(true);
    expect(byEndpoint.get(platform)).toBeNull();
    for (const left of [otherType, inactive, otherTenant, platformOtherType]) expect(byEndpoint.has(left)).toBe(false);
  });
});
