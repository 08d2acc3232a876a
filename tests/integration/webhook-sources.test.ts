import { randomBytes, randomInt, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Answer, type CreatedSource, sampleFor, send } from "../helpers/sources.ts";
import { functionUrl, signJwt, stack, testSql } from "../helpers/stack.ts";

// The webhook-sources management API against the real stack. The database is shared with other
// files: every tenant is a fresh uuid, and every source made here is deleted afterwards.
const sql = testSql();
const created: string[] = [];
const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const adminOf = (tenantId: string) => signJwt({ role: "authenticated", app_metadata: { role: "admin", tenant_id: tenantId } });

beforeAll(async () => {
  await sql.unsafe(`
    create schema if not exists test_sources_api;
    create or replace function test_sources_api.wrong(jsonb, jsonb) returns integer language sql set search_path = '' as 'select 1';
    create or replace function test_sources_api.right(jsonb, jsonb) returns text language sql set search_path = '' as 'select ''ok''';`);
});

afterAll(async () => {
  await sql`delete from public.webhook_events where source_id = any(${created}::uuid[])`;
  await sql`delete from public.webhook_sources where id = any(${created}::uuid[])`;
  await sql`drop schema if exists test_sources_api cascade`;
});

// This file's own client address: the refusals it provokes (401s, 400s: security events) count
// towards its own alert threshold, not that of the other files calling from 127.0.0.1.
const CLIENT_IP = `198.18.${randomInt(256)}.${randomInt(1, 255)}`;

/** Calls the API as sourcesApi does (the service role unless `token` says otherwise), from CLIENT_IP. */
async function api(method: string, path: string, options: { body?: unknown; token?: string | null } = {}): Promise<Answer> {
  const token = options.token === undefined ? stack.SUPABASE_SERVICE_ROLE_KEY : options.token;
  const headers: Record<string, string> = { "x-forwarded-for": CLIENT_IP };
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  const response = await fetch(`${functionUrl("webhook-sources")}${path}`, { method, headers, body });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/** POST / with `token` (the service role by default), remembering any source it creates. */
async function post(body: Record<string, unknown>, token?: string) {
  const res = await api("POST", "/", { body, token });
  if (res.status === 201) created.push(res.body.id);
  return res;
}

/** Creates a source; fails unless the answer is 201. */
async function make(body: Record<string, unknown>, token?: string): Promise<CreatedSource> {
  const res = await post({ name: `${body.verifier} source`, ...body }, token);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const ids = (res: { body: { data: { id: string }[] } }) => res.body.data.map((row) => row.id);
/** Asserts the contract's error answer: status and code. */
function expectError(res: { status: number; body: any }, status: number, code: string, label?: string) {
  expect({ status: res.status, code: res.body?.error?.code }, label).toEqual({ status, code });
}
const detailPaths = (res: { body: any }) => res.body.error.details.map((d: { path: string }) => d.path);

describe("who may call", () => {
  it("answers 401 without a token and with a forged one, 403 to a non-admin user", async () => {
    for (const token of [null, "not-a-jwt"]) expectError(await api("GET", "/", { token }), 401, "unauthorized");
    const user = await signJwt({ role: "authenticated", sub: randomUUID() });
    expectError(await api("GET", "/", { token: user }), 403, "forbidden");
    expectError(await api("POST", "/", { token: user, body: { name: "x", verifier: "github" } }), 403, "forbidden");
  });

  it("scopes a tenant admin to its own tenant's sources", async () => {
    const tenant = randomUUID();
    const admin = await adminOf(tenant);
    const mine = await make({ verifier: "github" }, admin);
    expect(mine.tenant_id).toBe(tenant);
    const extra = await make({ verifier: "github", tenant_id: tenant }, admin);
    expect(extra.tenant_id).toBe(tenant);
    const theirs = await make({ verifier: "hmac", tenant_id: randomUUID() });

    expectError(await post({ name: "x", verifier: "github", tenant_id: randomUUID() }, admin), 403, "forbidden");

    const attempts: [string, string, unknown?][] = [
      ["GET", ""],
      ["PATCH", "", { name: "mine now" }],
      ["POST", "/rotate-secret"],
      ["POST", "/test"],
      ["GET", "/stats"],
      ["GET", "/events"],
      ["DELETE", ""],
    ];
    for (const [method, suffix, body] of attempts) {
      const res = await api(method, `/${theirs.id}${suffix}`, { token: admin, body });
      expectError(res, 404, "not_found", `${method} ${suffix}`);
      // The same calls on its own source succeed.
      const own = await api(method, `/${(method === "DELETE" ? extra : mine).id}${suffix}`, { token: admin, body });
      expect(own.status, `${method} ${suffix} on its own source`).toBe(method === "DELETE" ? 204 : 200);
    }
    expect((await api("GET", `/${theirs.id}`)).body.name).toBe(theirs.name);

    const list = await api("GET", "/?limit=100", { token: admin });
    expect(list.status).toBe(200);
    expect(ids(list)).toEqual([mine.id]);
    expect(list.body.data[0].tenant_id).toBe(tenant);
    expectError(await api("GET", `/?tenant_id=${theirs.tenant_id}`, { token: admin }), 403, "forbidden");
  });

  it("lets the platform narrow its list to one tenant, newest first, a page at a time", async () => {
    const tenant = randomUUID();
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await make({ verifier: "none", tenant_id: tenant })).id);
    await make({ verifier: "none", tenant_id: randomUUID() });
    const all = await api("GET", `/?tenant_id=${tenant}`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ next_cursor: null });
    expect(ids(all)).toEqual([...made].reverse());
    const first = await api("GET", `/?tenant_id=${tenant}&limit=2`);
    expect(ids(first)).toEqual([made[2], made[1]]);
    const rest = await api("GET", `/?tenant_id=${tenant}&limit=2&cursor=${first.body.next_cursor}`);
    expect(ids(rest)).toEqual([made[0]]);
    expect(rest.body.next_cursor).toBeNull();
  });
});

describe("creating a source", () => {
  const secretFor: Record<string, string> = {
    stripe: `whsec_${randomBytes(24).toString("base64")}`,
    shopify: hex(16),
    close: hex(32),
  };
  const options: Record<string, object> = { paypal: { webhook_id: "WH-TEST-1" }, basic: { username: "shop" } };
  it.each([
    ["github", /^\S{20,}$/, "x-github-delivery", "x-github-event"],
    ["hmac", /^\S{20,}$/, null, "$.type"],
    ["basic", /^\S{20,}$/, null, "$.type"],
    ["api-key", /^\S{20,}$/, null, "$.type"],
    ["standard-webhooks", /^whsec_\S+$/, null, "$.type"],
    ["close", "supplied", "$.event.id", "{$.event.object_type}.{$.event.action}"],
    ["stripe", "supplied", "$.id", "$.type"],
    ["shopify", "supplied", "x-shopify-webhook-id", "x-shopify-topic"],
    ["none", null, null, "$.type"],
    ["paypal", null, "$.id", "$.event_type"],
  ] as const)("%s: 201 with its URL, secret, and the scheme's defaults", async (verifier, secret, eventId, eventType) => {
    const source = await make({ verifier, secret: secretFor[verifier], verifier_options: options[verifier] });
    expect(source.url).toMatch(new RegExp(`/functions/v1/inbound-webhook/${source.id}$`));
    if (secret === "supplied") expect(source.secret).toBe(secretFor[verifier]);
    else if (secret === null) expect(source.secret).toBeNull();
    else expect(source.secret).toMatch(secret);
    expect(source).toMatchObject({ verifier, verified: verifier !== "none", event_id: eventId, event_type: eventType });
    expect(source).toMatchObject({ filter: ["*"], mode: "sync", active: true, tenant_id: null, forward: [] });
    const [row] = await sql`select secret from public.webhook_sources where id = ${source.id}`;
    expect(row.secret).toBe(source.secret);
    const shown = await api("GET", `/${source.id}`);
    expect(shown.status).toBe(200);
    const { secret: _, ...rest } = source;
    expect(shown.body).toEqual(rest);
    expect(shown.body).not.toHaveProperty("previous_secret");
  });

  it("keeps the locations, filter, forward rules and handler it is given", async () => {
    const given = {
      event_id: "$.delivery.id",
      event_type: null,
      forward: [{ match: "push", type: "inbound.github.push" }],
      handler: "test_sources_api.right",
      mode: "async",
    };
    const source = await make({ verifier: "github", ...given, filter: ["push", "pull_request", "push"] });
    expect(source).toMatchObject({ ...given, filter: ["push", "pull_request"] });
  });

  it.each([
    ["an unknown verifier", { verifier: "gitlab" }, "verifier"],
    ["a misspelt field", { verifier: "github", event_types: ["push"] }, ""],
    ["stripe without its secret", { verifier: "stripe" }, "secret"],
    ["shopify without its secret", { verifier: "shopify" }, "secret"],
    ["close without its secret", { verifier: "close" }, "secret"],
    ["twilio without its secret", { verifier: "twilio" }, "secret"],
    ["close with a secret that is not hex", { verifier: "close", secret: "not-hex-at-all-zz" }, "secret"],
    ["stripe with a secret that is not whsec_", { verifier: "stripe", secret: hex(16) }, "secret"],
    ["github with a secret of 7 characters", { verifier: "github", secret: "1234567" }, "secret"],
    ["paypal without its webhook id", { verifier: "paypal" }, "verifier_options.webhook_id"],
    ["hmac with an unknown option", { verifier: "hmac", verifier_options: { algo: "md5" } }, "verifier_options"],
    ["none with a secret", { verifier: "none", secret: "s3cret-s3cret" }, "secret"],
    ["paypal with a secret", { verifier: "paypal", secret: "s3cret-s3cret", verifier_options: { webhook_id: "WH-1" } }, "secret"],
    ["an event id location with a space", { verifier: "github", event_id: "has space" }, "event_id"],
    ["a bad event type template", { verifier: "github", event_type: "{$.a" }, "event_type"],
    ["a bad filter pattern", { verifier: "github", filter: ["pu*sh"] }, "filter.0"],
    ["a forward type outside the catalogue", {
      verifier: "github",
      forward: [{ match: "*", type: "order.created_custom" }],
    }, "forward.0.type"],
    ["a handler that is no schema.function", { verifier: "github", handler: "nope" }, "handler"],
  ])("refuses %s with 400 invalid_request naming the path", async (_, body, path) => {
    const res = await post({ name: "bad", ...body });
    expectError(res, 400, "invalid_request", JSON.stringify(res.body));
    expect(detailPaths(res)).toEqual([path]);
  });

  it.each(["public.no_such_fn", "test_sources_api.wrong"])("refuses handler %s with 400 invalid_handler", async (handler) => {
    const res = await post({ name: "bad", verifier: "github", handler });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_handler", details: [{ path: "handler" }] });
    expect(res.body.error.message).toContain(handler.endsWith("wrong") ? "returns integer" : handler);
  });
});

describe("updating and deleting", () => {
  it("changes what it is sent and nothing else", async () => {
    const source = await make({ verifier: "hmac" });
    const res = await api("PATCH", `/${source.id}`, { body: { name: "renamed", filter: ["order.*"], active: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "renamed", filter: ["order.*"], active: false, event_type: "$.type" });
    expect(res.body).not.toHaveProperty("secret");
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(source.updated_at));
    expect((await api("GET", `/${source.id}`)).body).toMatchObject({ name: "renamed", active: false });
    const [row] = await sql`select secret from public.webhook_sources where id = ${source.id}`;
    expect(row.secret).toBe(source.secret);
  });

  it.each([
    ["no forward rules", []],
    ["two forward rules", [{ match: "order.*", type: "inbound.shop.order" }, { match: "*", type: "inbound.shop.other" }]],
  ])("stores %s, on create and on update", async (_, forward) => {
    const source = await make({ verifier: "hmac", forward });
    expect(source.forward).toEqual(forward);
    const patched = await api("PATCH", `/${source.id}`, { body: { forward, verifier_options: { algorithm: "sha512" } } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.forward).toEqual(forward);
    expect(patched.body.verifier_options).toEqual({ algorithm: "sha512", encoding: "hex", header: "x-signature", prefix: "" });
  });

  it.each([
    ["nothing to change", {}, "invalid_request"],
    ["the verifier", { verifier: "none" }, "invalid_request"],
    ["the secret", { secret: "s3cret-s3cret" }, "invalid_request"],
    ["a handler that does not exist", { handler: "public.no_such_fn" }, "invalid_handler"],
  ])("refuses %s with 400", async (_, body, code) => {
    const source = await make({ verifier: "github" });
    const res = await api("PATCH", `/${source.id}`, { body });
    expectError(res, 400, code);
    expect((await api("GET", `/${source.id}`)).body).toEqual((({ secret: _, ...rest }) => rest)(source));
  });

  it.each([randomUUID(), "not-a-uuid"])("answers 404 for source %s", async (id) => {
    for (const [method, body] of [["GET"], ["PATCH", { name: "x" }], ["DELETE"]] as const) {
      expectError(await api(method, `/${id}`, { body }), 404, "not_found", method);
    }
  });

  it("deletes a source and keeps its events", async () => {
    const source = await make({ verifier: "hmac" });
    expect((await send(await sampleFor(source))).status).toBe(200);
    expect(await api("DELETE", `/${source.id}`)).toMatchObject({ status: 204, body: null });
    expect((await api("GET", `/${source.id}`)).status).toBe(404);
    expect((await api("DELETE", `/${source.id}`)).status).toBe(404);
    const [{ n }] = await sql`select count(*)::int as n from public.webhook_events where source_id = ${source.id}`;
    expect(n).toBe(1);
  });
});

describe("rotating a secret", () => {
  it("installs a new secret, keeps the old one 24 hours, and refuses a second rotation meanwhile", async () => {
    const source = await make({ verifier: "github" });
    const before = Date.now();
    const first = await api("POST", `/${source.id}/rotate-secret`);
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^\S{20,}$/);
    expect(first.body.secret).not.toBe(source.secret);
    expect(first.body).not.toHaveProperty("previous_secret");
    const expires = Date.parse(first.body.previous_secret_expires_at) - before;
    expect(Math.abs(expires - 24 * 3_600_000)).toBeLessThan(60_000);
    const [row] = await sql`select secret, previous_secret from public.webhook_sources where id = ${source.id}`;
    expect(row).toEqual({ secret: first.body.secret, previous_secret: source.secret });
    expect((await api("GET", `/${source.id}`)).body).not.toHaveProperty("secret");

    expectError(await api("POST", `/${source.id}/rotate-secret`, { body: {} }), 409, "rotation_in_progress");
    const forced = await api("POST", `/${source.id}/rotate-secret`, { body: { expire_previous: true } });
    expect(forced.status).toBe(200);
    const [after] = await sql`select secret, previous_secret from public.webhook_sources where id = ${source.id}`;
    expect(after).toEqual({ secret: forced.body.secret, previous_secret: first.body.secret });
  });

  it("needs the provider's new secret for a supplied scheme, and takes it", async () => {
    const source = await make({ verifier: "shopify", secret: hex(16) });
    const bare = await api("POST", `/${source.id}/rotate-secret`);
    expect(bare.status).toBe(400);
    expect(bare.body.error).toMatchObject({ code: "invalid_request", details: [{ path: "secret" }] });
    const secret = hex(16);
    const rotated = await api("POST", `/${source.id}/rotate-secret`, { body: { secret } });
    expect(rotated).toMatchObject({ status: 200, body: { secret } });
  });

  it("answers 409 no_secret for a source without one", async () => {
    const source = await make({ verifier: "none" });
    expectError(await api("POST", `/${source.id}/rotate-secret`), 409, "no_secret");
  });
});

describe("sending a test sample", () => {
  it.each([
    ["github", undefined, "push"],
    ["github", "pull_request", "pull_request"],
    ["hmac", undefined, "order.shipped"],
  ])("%s (type %s): signs, sends, and reports inbound-webhook's answer", async (verifier, type, sent) => {
    const source = await make({ verifier });
    const res = await api("POST", `/${source.id}/test`, type ? { body: { type } } : {});
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({
      sent: { type: sent, url: source.url },
      response: {
        status: 200,
        body: expect.objectContaining({ received: true, status: "processed", duplicate: false, type: sent }),
      },
    });
    const rows = await sql`select event_id, event_type, status from public.webhook_events where source_id = ${source.id}`;
    expect(rows).toEqual([{ event_id: res.body.response.body.id, event_type: sent, status: "processed" }]);
  });

  it("answers 422 sample_unavailable for paypal, and reports an inactive source's 404", async () => {
    const paypal = await make({ verifier: "paypal", verifier_options: { webhook_id: "WH-TEST-2" } });
    expectError(await api("POST", `/${paypal.id}/test`), 422, "sample_unavailable");

    const inactive = await make({ verifier: "github", active: false });
    const res = await api("POST", `/${inactive.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({ status: 404, body: { error: { code: "source_not_found" } } });
    expect((await api("POST", `/${inactive.id}/test`, { body: { kind: "x" } })).status).toBe(400);
  });
});

describe("stats and events", () => {
  let source: CreatedSource;
  const types = ["order.shipped", "customer.created", "order.shipped", "order.created"];
  const bodies: unknown[] = [];
  let events: any[];

  beforeAll(async () => {
    source = await make({ verifier: "hmac", filter: ["order.*"] });
    for (const type of types) {
      const request = await sampleFor(source, { type });
      const res = await send(request);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      bodies.push(JSON.parse(request.body));
    }
    events = (await api("GET", `/${source.id}/events?include_payload=true`)).body.data;
  });

  it("counts the source's events by status and type", async () => {
    const res = await api("GET", `/${source.id}/stats`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      source_id: source.id,
      verified: true,
      total: 4,
      today: 4,
      by_status: { processed: 3, ignored: 1 },
      // By count, then by type.
      by_type: [["order.shipped", 2], ["customer.created", 1], ["order.created", 1]].map(([type, count]) => ({ type, count })),
      success_rate: 1,
    });
    const empty = await make({ verifier: "none" });
    expect((await api("GET", `/${empty.id}/stats`)).body).toEqual(
      { source_id: empty.id, verified: false, total: 0, today: 0, by_status: {}, by_type: [], success_rate: null },
    );
  });

  it("lists events newest first, payloads only when asked for", async () => {
    expect(events.map((e) => e.event_type)).toEqual([...types].reverse());
    expect(events.map((e) => e.status)).toEqual(["processed", "processed", "ignored", "processed"]);
    expect(events.map((e) => e.payload)).toEqual([...bodies].reverse());
    const plain = await api("GET", `/${source.id}/events`);
    expect(plain.status).toBe(200);
    expect(plain.body.next_cursor).toBeNull();
    expect(plain.body.data.map((e: { id: string }) => e.id)).toEqual(events.map((e) => e.id));
    expect(plain.body.data.every((e: object) => !("payload" in e))).toBe(true);
  });

  it("pages without overlap or gap", async () => {
    const first = await api("GET", `/${source.id}/events?limit=2`);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual(events.slice(0, 2).map((e) => e.id));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await api("GET", `/${source.id}/events?limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body.data.map((e: { id: string }) => e.id)).toEqual(events.slice(2).map((e) => e.id));
    expect(rest.body.next_cursor).toBeNull();
  });

  it("filters by status, type and time", async () => {
    const query = async (q: string) => {
      const res = await api("GET", `/${source.id}/events?${q}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.map((e: { event_type: string }) => e.event_type);
    };
    expect(await query("status=ignored")).toEqual(["customer.created"]);
    expect(await query("type=order.shipped")).toEqual(["order.shipped", "order.shipped"]);
    expect(await query("type=order.shipped&status=ignored")).toEqual([]);
    // The events' exact (microsecond) times, newest first; `from` is inclusive, `to` exclusive.
    const times = await sql<{ at: string }[]>`
      select to_char(received_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as at
      from public.webhook_events where source_id = ${source.id} order by received_at desc, id desc`;
    expect(await query(`from=${times[1].at}`)).toEqual([types[3], types[2]]);
    expect(await query(`to=${times[1].at}`)).toEqual([types[1], types[0]]);
    expect(await query(`from=${times[2].at}&to=${times[1].at}`)).toEqual([types[1]]);
    const offset = new Date(Date.parse(times[3].at)).toISOString().replace("Z", "+00:00");
    expect(await query(`from=${encodeURIComponent(offset)}`)).toEqual([...types].reverse());
  });

  it.each([
    ["cursor=not-a-cursor", "query.cursor"],
    ["status=done", "query.status"],
    ["from=yesterday", "query.from"],
    ["limit=0", "query.limit"],
    ["include_payload=yes", "query.include_payload"],
  ])("refuses %s with 400 naming %s", async (q, path) => {
    const res = await api("GET", `/${source.id}/events?${q}`);
    expectError(res, 400, "invalid_request", JSON.stringify(res.body));
    expect(detailPaths(res)).toEqual([path]);
  });

  it("answers 404 for the events, stats, test and rotation of no source", async () => {
    for (const [method, path] of [["GET", "events"], ["GET", "stats"], ["POST", "test"], ["POST", "rotate-secret"]]) {
      expectError(await api(method, `/${randomUUID()}/${path}`), 404, "not_found", path);
    }
  });
});
