import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CreatedSource, sampleFor, send, sourcesApi } from "../helpers/sources.ts";
import { signJwt, testSql } from "../helpers/stack.ts";

// The webhook-sources management API against the real stack. The database is shared with other
// files: every tenant is a fresh uuid, and every source made here is deleted afterwards.
const sql = testSql();
const created: string[] = [];
const hex = (bytes: number) => randomBytes(bytes).toString("hex");
const adminOf = (tenantId: string) =>
  signJwt({ role: "authenticated", app_metadata: { role: "admin", tenant_id: tenantId } });

beforeAll(async () => {
  await sql.unsafe(`
    create schema if not exists test_sources_api;
    create or replace function test_sources_api.wrong(jsonb, jsonb) returns integer language sql as 'select 1';
    create or replace function test_sources_api.right(jsonb, jsonb) returns text language sql as 'select ''ok''';`);
});

afterAll(async () => {
  await sql`delete from public.webhook_events where source_id = any(${created}::uuid[])`;
  await sql`delete from public.webhook_sources where id = any(${created}::uuid[])`;
  await sql`drop schema if exists test_sources_api cascade`;
});

/** POST / with `token` (the service role by default), remembering any source it creates. */
async function post(body: Record<string, unknown>, token?: string) {
  const res = await sourcesApi("POST", "/", { body, token });
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
const detailPaths = (res: { body: any }) => res.body.error.details.map((d: { path: string }) => d.path);

describe("who may call", () => {
  it("answers 401 without a token and with a forged one, 403 to a non-admin user", async () => {
    for (const token of [null, "not-a-jwt"]) {
      const res = await sourcesApi("GET", "/", { token });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("unauthorized");
    }
    const user = await signJwt({ role: "authenticated", sub: randomUUID() });
    const refused = await sourcesApi("GET", "/", { token: user });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    const post = await sourcesApi("POST", "/", { token: user, body: { name: "x", verifier: "github" } });
    expect(post.status).toBe(403);
    expect(post.body.error.code).toBe("forbidden");
  });

  it("scopes a tenant admin to its own tenant's sources", async () => {
    const tenant = randomUUID();
    const admin = await adminOf(tenant);
    const mine = await make({ verifier: "github" }, admin);
    expect(mine.tenant_id).toBe(tenant);
    expect((await make({ verifier: "github", tenant_id: tenant }, admin)).tenant_id).toBe(tenant);
    const theirs = await make({ verifier: "hmac", tenant_id: randomUUID() });

    const other = await post({ name: "x", verifier: "github", tenant_id: randomUUID() }, admin);
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("forbidden");

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
      const res = await sourcesApi(method, `/${theirs.id}${suffix}`, { token: admin, body });
      expect(res.status, `${method} ${suffix}`).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
    expect((await sourcesApi("GET", `/${theirs.id}`)).body.name).toBe(theirs.name);
    expect((await sourcesApi("GET", `/${mine.id}`, { token: admin })).status).toBe(200);

    const list = await sourcesApi("GET", "/?limit=100", { token: admin });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    expect(ids(list)).toContain(mine.id);
    expect(list.body.data.every((s: { tenant_id: string }) => s.tenant_id === tenant)).toBe(true);
    const foreign = await sourcesApi("GET", `/?tenant_id=${theirs.tenant_id}`, { token: admin });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe("forbidden");
  });

  it("lets the platform narrow its list to one tenant, newest first, a page at a time", async () => {
    const tenant = randomUUID();
    const made = [];
    for (let i = 0; i < 3; i++) made.push((await make({ verifier: "none", tenant_id: tenant })).id);
    await make({ verifier: "none", tenant_id: randomUUID() });
    const all = await sourcesApi("GET", `/?tenant_id=${tenant}`);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({ next_cursor: null });
    expect(ids(all)).toEqual([...made].reverse());
    const first = await sourcesApi("GET", `/?tenant_id=${tenant}&limit=2`);
    expect(ids(first)).toEqual([made[2], made[1]]);
    const rest = await sourcesApi("GET", `/?tenant_id=${tenant}&limit=2&cursor=${first.body.next_cursor}`);
    expect(ids(rest)).toEqual([made[0]]);
    expect(rest.body.next_cursor).toBeNull();
  });
});

describe("creating a source", () => {
  const secretFor: Record<string, string> = {
    stripe: `whsec_${randomBytes(24).toString("base64")}`,
    shopify: hex(16),
    close: hex(32),
    twilio: hex(16),
  };
  const options: Record<string, Record<string, unknown>> = {
    paypal: { webhook_id: "WH-TEST-1" },
    basic: { username: "shop" },
  };
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
    expect(source).toMatchObject({
      verifier,
      verified: verifier !== "none",
      event_id: eventId,
      event_type: eventType,
      filter: ["*"],
      mode: "sync",
      active: true,
      tenant_id: null,
    });
    const [row] = await sql`select secret from public.webhook_sources where id = ${source.id}`;
    expect(row.secret).toBe(source.secret);
    const shown = await sourcesApi("GET", `/${source.id}`);
    expect(shown.status).toBe(200);
    const { secret: _, ...rest } = source;
    expect(shown.body).toEqual(rest);
    expect(shown.body).not.toHaveProperty("previous_secret");
  });

  it("keeps the locations, filter, forward rules and handler it is given", async () => {
    const source = await make({
      verifier: "github",
      event_id: "$.delivery.id",
      event_type: null,
      filter: ["push", "pull_request", "push"],
      forward: [{ match: "push", type: "inbound.github.push" }],
      handler: "test_sources_api.right",
      mode: "async",
    });
    expect(source).toMatchObject({
      event_id: "$.delivery.id",
      event_type: null,
      filter: ["push", "pull_request"],
      forward: [{ match: "push", type: "inbound.github.push" }],
      handler: "test_sources_api.right",
      mode: "async",
    });
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
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(detailPaths(res)).toEqual([path]);
  });

  it.each(["public.no_such_fn", "test_sources_api.wrong"])("refuses handler %s with 400 invalid_handler", async (handler) => {
    const res = await post({ name: "bad", verifier: "github", handler });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "invalid_handler", details: [{ path: "handler" }] });
    expect(res.body.error.message).toMatch(handler.endsWith("wrong") ? /returns integer, not text/ : /no function/);
  });
});

describe("updating and deleting", () => {
  it("changes what it is sent and nothing else", async () => {
    const source = await make({ verifier: "hmac" });
    const res = await sourcesApi("PATCH", `/${source.id}`, { body: { name: "renamed", filter: ["order.*"], active: false } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: "renamed", filter: ["order.*"], active: false, event_type: "$.type" });
    expect(res.body).not.toHaveProperty("secret");
    expect(Date.parse(res.body.updated_at)).toBeGreaterThanOrEqual(Date.parse(source.updated_at));
    expect((await sourcesApi("GET", `/${source.id}`)).body).toMatchObject({ name: "renamed", active: false });
    const [row] = await sql`select secret from public.webhook_sources where id = ${source.id}`;
    expect(row.secret).toBe(source.secret);
  });

  it.each([
    ["nothing to change", {}, "invalid_request"],
    ["the verifier", { verifier: "none" }, "invalid_request"],
    ["the secret", { secret: "s3cret-s3cret" }, "invalid_request"],
    ["a handler that does not exist", { handler: "public.no_such_fn" }, "invalid_handler"],
  ])("refuses %s with 400", async (_, body, code) => {
    const source = await make({ verifier: "github" });
    const res = await sourcesApi("PATCH", `/${source.id}`, { body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(code);
    expect((await sourcesApi("GET", `/${source.id}`)).body).toEqual((({ secret: _, ...rest }) => rest)(source));
  });

  it.each([randomUUID(), "not-a-uuid"])("answers 404 for source %s", async (id) => {
    for (const [method, body] of [["GET"], ["PATCH", { name: "x" }], ["DELETE"]] as const) {
      const res = await sourcesApi(method, `/${id}`, { body });
      expect(res.status, method).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });

  it("deletes a source and keeps its events", async () => {
    const source = await make({ verifier: "hmac" });
    expect((await send(await sampleFor(source))).status).toBe(200);
    const res = await sourcesApi("DELETE", `/${source.id}`);
    expect(res.status).toBe(204);
    expect(res.body).toBeNull();
    expect((await sourcesApi("GET", `/${source.id}`)).status).toBe(404);
    expect((await sourcesApi("DELETE", `/${source.id}`)).status).toBe(404);
    const [{ n }] = await sql`select count(*)::int as n from public.webhook_events where source_id = ${source.id}`;
    expect(n).toBe(1);
  });
});

describe("rotating a secret", () => {
  it("installs a new secret, keeps the old one 24 hours, and refuses a second rotation meanwhile", async () => {
    const source = await make({ verifier: "github" });
    const before = Date.now();
    const first = await sourcesApi("POST", `/${source.id}/rotate-secret`);
    expect(first.status).toBe(200);
    expect(first.body.secret).toMatch(/^\S{20,}$/);
    expect(first.body.secret).not.toBe(source.secret);
    expect(first.body).not.toHaveProperty("previous_secret");
    const expires = Date.parse(first.body.previous_secret_expires_at) - before;
    expect(Math.abs(expires - 24 * 3_600_000)).toBeLessThan(60_000);
    const [row] = await sql`select secret, previous_secret from public.webhook_sources where id = ${source.id}`;
    expect(row).toEqual({ secret: first.body.secret, previous_secret: source.secret });
    expect((await sourcesApi("GET", `/${source.id}`)).body).not.toHaveProperty("secret");

    const again = await sourcesApi("POST", `/${source.id}/rotate-secret`, { body: {} });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("rotation_in_progress");
    const forced = await sourcesApi("POST", `/${source.id}/rotate-secret`, { body: { expire_previous: true } });
    expect(forced.status).toBe(200);
    const [after] = await sql`select secret, previous_secret from public.webhook_sources where id = ${source.id}`;
    expect(after).toEqual({ secret: forced.body.secret, previous_secret: first.body.secret });
  });

  it("needs the provider's new secret for a supplied scheme, and takes it", async () => {
    const source = await make({ verifier: "shopify", secret: hex(16) });
    const bare = await sourcesApi("POST", `/${source.id}/rotate-secret`);
    expect(bare.status).toBe(400);
    expect(bare.body.error).toMatchObject({ code: "invalid_request", details: [{ path: "secret" }] });
    const secret = hex(16);
    const res = await sourcesApi("POST", `/${source.id}/rotate-secret`, { body: { secret } });
    expect(res.status).toBe(200);
    expect(res.body.secret).toBe(secret);
  });

  it("answers 409 no_secret for a source without one", async () => {
    const source = await make({ verifier: "none" });
    const res = await sourcesApi("POST", `/${source.id}/rotate-secret`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("no_secret");
  });
});

describe("sending a test sample", () => {
  it.each([
    ["github", undefined, "push"],
    ["github", "pull_request", "pull_request"],
    ["hmac", undefined, "order.shipped"],
  ])("%s (type %s): signs, sends, and reports inbound-webhook's answer", async (verifier, type, sent) => {
    const source = await make({ verifier });
    const res = await sourcesApi("POST", `/${source.id}/test`, type ? { body: { type } } : {});
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
    const refused = await sourcesApi("POST", `/${paypal.id}/test`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("sample_unavailable");

    const inactive = await make({ verifier: "github", active: false });
    const res = await sourcesApi("POST", `/${inactive.id}/test`);
    expect(res.status).toBe(200);
    expect(res.body.response).toMatchObject({ status: 404, body: { error: { code: "source_not_found" } } });
    expect((await sourcesApi("POST", `/${inactive.id}/test`, { body: { kind: "x" } })).status).toBe(400);
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
    events = (await sourcesApi("GET", `/${source.id}/events?include_payload=true`)).body.data;
  });

  it("counts the source's events by status and type", async () => {
    const res = await sourcesApi("GET", `/${source.id}/stats`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      source_id: source.id,
      verified: true,
      total: 4,
      today: 4,
      by_status: { processed: 3, ignored: 1 },
      by_type: [
        { type: "order.shipped", count: 2 },
        { type: "customer.created", count: 1 },
        { type: "order.created", count: 1 },
      ],
      success_rate: 1,
    });
    const empty = await make({ verifier: "none" });
    expect((await sourcesApi("GET", `/${empty.id}/stats`)).body).toMatchObject({
      total: 0,
      today: 0,
      by_status: {},
      by_type: [],
      success_rate: null,
      verified: false,
    });
  });

  it("lists events newest first, payloads only when asked for", async () => {
    expect(events.map((e) => e.event_type)).toEqual([...types].reverse());
    expect(events.map((e) => e.status)).toEqual(["processed", "processed", "ignored", "processed"]);
    expect(events.map((e) => e.payload)).toEqual([...bodies].reverse());
    const plain = await sourcesApi("GET", `/${source.id}/events`);
    expect(plain.status).toBe(200);
    expect(plain.body.next_cursor).toBeNull();
    expect(plain.body.data.map((e: { id: string }) => e.id)).toEqual(events.map((e) => e.id));
    expect(plain.body.data.every((e: object) => !("payload" in e))).toBe(true);
  });

  it("pages without overlap or gap", async () => {
    const first = await sourcesApi("GET", `/${source.id}/events?limit=2`);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual(events.slice(0, 2).map((e) => e.id));
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await sourcesApi("GET", `/${source.id}/events?limit=2&cursor=${first.body.next_cursor}`);
    expect(rest.body.data.map((e: { id: string }) => e.id)).toEqual(events.slice(2).map((e) => e.id));
    expect(rest.body.next_cursor).toBeNull();
  });

  it("filters by status, type and time", async () => {
    const query = async (q: string) => {
      const res = await sourcesApi("GET", `/${source.id}/events?${q}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.data.map((e: { event_type: string }) => e.event_type);
    };
    expect(await query("status=ignored")).toEqual(["customer.created"]);
    expect(await query("type=order.shipped")).toEqual(["order.shipped", "order.shipped"]);
    expect(await query("type=order.shipped&status=ignored")).toEqual([]);
    // Exact (microsecond) times of the second-newest and second-oldest events.
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
    const res = await sourcesApi("GET", `/${source.id}/events?${q}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(detailPaths(res)).toEqual([path]);
  });

  it("answers 404 for the events and stats of no source", async () => {
    for (const path of ["events", "stats"]) {
      const res = await sourcesApi("GET", `/${randomUUID()}/${path}`);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe("not_found");
    }
  });
});
