import { createHmac, randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { serveFunction } from "../../dev/stack/functions.ts";
import type { ThrowawayStack } from "../../dev/stack/throwaway.ts";
import { jsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { until } from "../helpers/until.ts";

// A dispatch claims every due delivery in its database, so these tests have a stack of
// their own; the shared test database's other files create endpoints they manage themselves.
let own: OwnStack;
let stack: ThrowawayStack;
let sql: postgres.Sql;
let receiver: Receiver;

beforeAll(async () => {
  own = await startOwnStack("webhook-test", {
    LOG_LEVEL: "error",
    WEBHOOK_TIMEOUT_MS: "500",
    WEBHOOK_DISPATCH_SECONDS: "5",
  });
  ({ stack, sql } = own);
  receiver = await startReceiver();
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await own?.close();
});

// Each test starts with no endpoint subscribed, so earlier tests' endpoints receive nothing new.
beforeEach(async () => {
  await sql`update public.webhook_endpoints set active = false`;
});

const whsec = () => `whsec_${randomBytes(24).toString("base64")}`;

async function dispatch(url = `${stack.env.SUPABASE_URL}/functions/v1/webhook-dispatcher`) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}` },
    body: '{"action":"dispatch"}',
  });
  expect(res.status).toBe(200);
  return await res.json();
}

async function endpoint(path: string, options: { types?: string[]; tenant?: string | null; legacy?: boolean; rate?: [number, number] } = {}) {
  const secret = whsec();
  const [row] = await sql`
    insert into public.webhook_endpoints (url, event_types, secret, tenant_id, legacy_signature, rate_limit_per_minute, rate_limit_burst)
    values (${receiver.url(path)}, ${options.types ?? ["*"]}, ${secret}, ${options.tenant ?? null},
            ${options.legacy ?? false}, ${options.rate?.[0] ?? 100}, ${options.rate?.[1] ?? 250})
    returning id`;
  return { id: row.id as string, secret, path };
}

async function publish(type: string, data: Record<string, unknown> = {}, tenant: string | null = null) {
  const [{ id }] = await sql`select public.publish_event(${type}, ${tenant}, ${jsonb(sql, data)}) as id`;
  return id as string;
}

async function deliveriesOf(endpointId: string) {
  return await sql`
    select d.*, e.type as event_type from public.webhook_deliveries d
    join public.outbound_events e on e.id = d.event_id
    where d.endpoint_id = ${endpointId} order by d.created_at`;
}

const timeTravel = (endpointId: string) =>
  sql`update public.webhook_deliveries set next_attempt_at = now() where endpoint_id = ${endpointId} and status = 'PENDING'`;

describe("subscriptions", () => {
  it("fans an order change out to the endpoints whose types and wildcards match", async () => {
    const orders = await endpoint("/sub/orders", { types: ["order.*"] });
    const payments = await endpoint("/sub/payments", { types: ["payment.completed"] });
    const all = await endpoint("/sub/all", { types: ["*"] });
    const products = await endpoint("/sub/products", { types: ["product.*"] });
    const [order] = await sql`insert into public.orders (amount_total, currency, customer_email) values (100, 'usd', null) returning id`;
    await sql`update public.orders set status = 'paid' where id = ${order.id}`;
    await dispatch();
    const types = async (e: { id: string }) => (await deliveriesOf(e.id)).map((d) => d.event_type).sort();
    expect(await types(orders)).toEqual(["order.created", "order.updated"]);
    expect(await types(payments)).toEqual(["payment.completed"]);
    expect(await types(all)).toEqual(["order.created", "order.updated", "payment.completed"]);
    expect(await types(products)).toEqual([]);
    const [paid] = receiver.received("/sub/payments");
    expect(JSON.parse(paid.body)).toMatchObject({
      type: "payment.completed",
      api_version: expect.any(String),
      tenant_id: null,
      data: { object: { id: order.id, status: "paid" } },
    });
  });

  it("delivers a tenant's events to that tenant's endpoints and to platform endpoints only", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    const mine = await endpoint("/tenant/a", { tenant: a });
    const theirs = await endpoint("/tenant/b", { tenant: b });
    const platform = await endpoint("/tenant/platform", { tenant: null });
    await publish("product.created", { sku: "mug" }, a);
    expect(await deliveriesOf(mine.id)).toHaveLength(1);
    expect(await deliveriesOf(theirs.id)).toHaveLength(0);
    expect(await deliveriesOf(platform.id)).toHaveLength(1);
  });

  it("stores nothing for an event no endpoint subscribes to", async () => {
    expect(await publish("vendor.registration", { vendor: "v1" })).toBeNull();
  });
});

describe("signatures", () => {
  it("signs per Standard Webhooks, verifiable with the standardwebhooks library, plus the legacy header", async () => {
    const e = await endpoint("/sig", { legacy: true });
    const eventId = await publish("user.created", { id: "u1" });
    await dispatch();
    const [got] = receiver.received("/sig");
    expect(got.headers["webhook-id"]).toBe(eventId);
    const verified = new Webhook(e.secret).verify(got.body, {
      "webhook-id": String(got.headers["webhook-id"]),
      "webhook-timestamp": String(got.headers["webhook-timestamp"]),
      "webhook-signature": String(got.headers["webhook-signature"]),
    });
    expect(verified).toMatchObject({ id: eventId, type: "user.created" });
    expect(got.headers["x-webhook-signature"]).toBe(createHmac("sha256", e.secret).update(got.body).digest("hex"));
  });

  it("signs with both secrets during the 24 h after a rotation, and with the new one only after", async () => {
    const e = await endpoint("/rotate");
    const fresh = whsec();
    await sql`update public.webhook_endpoints set previous_secret = secret, secret = ${fresh},
      previous_secret_expires_at = now() + interval '24 hours' where id = ${e.id}`;
    await publish("user.updated", { id: "u1" });
    await dispatch();
    const verify = (secret: string, got: { body: string; headers: Record<string, unknown> }) =>
      new Webhook(secret).verify(got.body, {
        "webhook-id": String(got.headers["webhook-id"]),
        "webhook-timestamp": String(got.headers["webhook-timestamp"]),
        "webhook-signature": String(got.headers["webhook-signature"]),
      });
    const [during] = receiver.received("/rotate");
    expect(verify(fresh, during)).toBeTruthy();
    expect(verify(e.secret, during)).toBeTruthy();

    await sql`update public.webhook_endpoints set previous_secret_expires_at = now() - interval '1 second' where id = ${e.id}`;
    await publish("user.updated", { id: "u2" });
    await dispatch();
    const after = receiver.received("/rotate")[1];
    expect(verify(fresh, after)).toBeTruthy();
    expect(() => verify(e.secret, after)).toThrow();
  });
});

describe("status codes", () => {
  it.each([
    [200, "SUCCESS"],
    [204, "SUCCESS"],
    [302, "PENDING"],
    [408, "PENDING"],
    [429, "PENDING"],
    [500, "PENDING"],
    [503, "PENDING"],
    [400, "FAILED"],
    [401, "FAILED"],
    [404, "FAILED"],
    [422, "FAILED"],
  ])("answers %i → %s", async (status, expected) => {
    const path = `/status/${status}/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status, headers: status === 302 ? { location: receiver.url("/elsewhere") } : {} });
    const e = await endpoint(path);
    await publish("order.shipped", { id: "o1" });
    await dispatch();
    const [delivery] = await deliveriesOf(e.id);
    expect(delivery).toMatchObject({ status: expected, attempts: 1, last_status_code: status });
    const [attempt] = await sql`select * from public.webhook_delivery_attempts where delivery_id = ${delivery.id}`;
    expect(attempt).toMatchObject({ attempt: 1, status_code: status });
    if (status === 302) expect(receiver.received("/elsewhere")).toHaveLength(0);
  });

  it("records an answer whose body holds a NUL byte, which Postgres text cannot store as sent", async () => {
    const path = `/binary/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 200, body: "ok\u0000done" });
    const e = await endpoint(path);
    await publish("order.shipped", { id: "o1" });
    await dispatch();
    const [delivery] = await deliveriesOf(e.id);
    expect(delivery.status).toBe("SUCCESS");
    const [attempt] = await sql`select response_body from public.webhook_delivery_attempts where delivery_id = ${delivery.id}`;
    expect(attempt.response_body).toBe("ok\ufffddone");
  });

  it("retries a timeout and records it", async () => {
    const path = `/hang/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, "hang");
    const e = await endpoint(path);
    await publish("order.shipped", { id: "o1" });
    await dispatch();
    receiver.release();
    const [delivery] = await deliveriesOf(e.id);
    expect(delivery.status).toBe("PENDING");
    expect(delivery.last_error).toMatch(/timed out/);
  });

  it("disables the endpoint on 410 and publishes endpoint.disabled", async () => {
    const path = `/gone/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 410 });
    const ops = await endpoint("/ops", { types: ["endpoint.disabled"] });
    const e = await endpoint(path);
    await publish("order.shipped", { id: "o1" });
    await dispatch();
    const [row] = await sql`select active, disabled_at, disabled_reason from public.webhook_endpoints where id = ${e.id}`;
    expect(row.active).toBe(false);
    expect(row.disabled_reason).toContain("410");
    await dispatch();
    const notice = receiver.received("/ops").map((r) => JSON.parse(r.body));
    expect(notice).toContainEqual(expect.objectContaining({
      type: "endpoint.disabled",
      data: { object: expect.objectContaining({ endpoint_id: e.id, reason: "gone" }) },
    }));
  });

  it("honours Retry-After within bounds", async () => {
    const path = `/retry-after/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 429, headers: { "retry-after": "120" } });
    const e = await endpoint(path);
    await publish("order.shipped", { id: "o1" });
    await dispatch();
    let [delivery] = await deliveriesOf(e.id);
    const wait = (delivery.next_attempt_at.getTime() - Date.now()) / 1000;
    expect(wait).toBeGreaterThan(110);
    expect(wait).toBeLessThanOrEqual(120);

    receiver.answer(path, { status: 503, headers: { "retry-after": "99999999" } });
    await timeTravel(e.id);
    await dispatch();
    [delivery] = await deliveriesOf(e.id);
    expect((delivery.next_attempt_at.getTime() - Date.now()) / 1000).toBeLessThanOrEqual(86400);
  });
});

describe("the retry schedule", () => {
  it("retries after 5 min, 30 min, 2 h, 12 h and 24 h (±20%), then RETRY_EXHAUSTED and an operational event", async () => {
    const path = `/always-503/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 503 });
    const ops = await endpoint("/ops-exhausted", { types: ["message.attempt.exhausted"] });
    const e = await endpoint(path);
    // Five failures in a row would open the circuit; this test is about the schedule alone.
    await sql`update public.webhook_endpoints set max_in_flight = 1 where id = ${e.id}`;
    const eventId = await publish("order.shipped", { id: "o1" });
    const schedule = [300, 1800, 7200, 43200, 86400];
    for (let attempt = 1; attempt <= 6; attempt++) {
      await sql`update public.webhook_endpoints set circuit_state = 'closed', consecutive_failures = 0 where id = ${e.id}`;
      await dispatch();
      const [delivery] = await deliveriesOf(e.id);
      expect(delivery.attempts).toBe(attempt);
      if (attempt < 6) {
        const [last] = await sql`select max(started_at) as at from public.webhook_delivery_attempts where delivery_id = ${delivery.id}`;
        const delay = (delivery.next_attempt_at.getTime() - last.at.getTime()) / 1000;
        expect(delay).toBeGreaterThanOrEqual(schedule[attempt - 1] * 0.8 - 1);
        expect(delay).toBeLessThanOrEqual(schedule[attempt - 1] * 1.2 + 1);
        await timeTravel(e.id);
      } else {
        expect(delivery.status).toBe("RETRY_EXHAUSTED");
      }
    }
    await dispatch();
    const exhausted = receiver.received("/ops-exhausted").map((r) => JSON.parse(r.body));
    expect(exhausted).toContainEqual(expect.objectContaining({
      type: "message.attempt.exhausted",
      data: { object: expect.objectContaining({ event_id: eventId, endpoint_id: e.id, attempts: 6 }) },
    }));
  });
});

describe("throughput", () => {
  it("keeps the pool full across many endpoints and finishes within one dispatch", async () => {
    const endpoints = [];
    for (let i = 0; i < 60; i++) endpoints.push(await endpoint(`/fanout/${i}`));
    await publish("order.updated", { n: 1 });
    await publish("order.updated", { n: 2 });
    const report = await dispatch();
    expect(report).toMatchObject({ claimed: 120, succeeded: 120 });
    for (const e of endpoints) expect(receiver.received(e.path)).toHaveLength(2);
  });
});

describe("claiming", () => {
  const claim = (client: postgres.Sql | postgres.ReservedSql, limit: number) =>
    client<{ endpoint_id: string }[]>`
      select endpoint_id from public.claim_webhook_deliveries('claim-test', ${limit}, 60, 60)`;
  const perEndpoint = (rows: { endpoint_id: string }[]) =>
    rows.reduce<Record<string, number>>((n, row) => ({ ...n, [row.endpoint_id]: (n[row.endpoint_id] ?? 0) + 1 }), {});

  it("takes the endpoints in turns, so one partner's backlog cannot take the whole claim", async () => {
    const backlog = await endpoint("/turns/backlog");
    for (let i = 0; i < 20; i++) await publish("order.updated", { n: i });
    await sql`update public.webhook_deliveries set next_attempt_at = now() - interval '1 hour' where endpoint_id = ${backlog.id}`;
    const [a, b] = [await endpoint("/turns/a"), await endpoint("/turns/b")];
    for (let i = 0; i < 5; i++) await publish("order.updated", { n: i });
    expect(perEndpoint(await claim(sql, 6))).toEqual({ [backlog.id]: 2, [a.id]: 2, [b.id]: 2 });
  });

  it("keeps an endpoint's cap when two claims meet: the second counts what the first leased", async () => {
    const e = await endpoint("/cap/concurrent");
    await sql`update public.webhook_endpoints set max_in_flight = 3 where id = ${e.id}`;
    for (let i = 0; i < 10; i++) await publish("order.updated", { n: i });
    const first = await sql.reserve();
    try {
      await first`begin`;
      expect(await claim(first, 10)).toHaveLength(3);
      // postgres.js sends a query once it is awaited: then() sends this one now.
      const second = claim(sql, 10).then((rows) => rows);
      // It waits for the endpoint's token bucket, which the first holds until it commits.
      await until(
        () => sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%claim_webhook_deliveries%'`,
        ([row]) => row.n === 1,
        "the second claim to wait for the first",
      );
      await first`commit`;
      expect(await second).toHaveLength(0);
    } finally {
      // Ends the transaction if the test failed before its commit, or the locks would outlive it.
      await first`rollback`;
      first.release();
    }
    const [{ leased }] = await sql`
      select count(*)::int as leased from public.webhook_deliveries where endpoint_id = ${e.id} and locked_until >= now()`;
    expect(leased).toBe(3);
  });
});

describe("protecting the partner", () => {
  it("keeps to the endpoint's rate limit under a burst of 1,000 events", async () => {
    const path = `/limited/${randomUUID().slice(0, 6)}`;
    const e = await endpoint(path, { rate: [60, 20] });
    await sql`select public.publish_event('order.updated', null, jsonb_build_object('n', g)) from generate_series(1, 1000) g`;
    const started = Date.now();
    await dispatch();
    const seconds = (Date.now() - started) / 1000;
    const got = receiver.received(path).length;
    // Burst of 20, then 1 per second.
    expect(got).toBeGreaterThanOrEqual(20);
    expect(got).toBeLessThanOrEqual(20 + Math.ceil(seconds) + 1);
    const [{ pending }] = await sql`select count(*)::int as pending from public.webhook_deliveries where endpoint_id = ${e.id} and status = 'PENDING'`;
    expect(pending).toBe(1000 - got);
    const [{ spent }] = await sql`select coalesce(sum(attempts), 0)::int as spent from public.webhook_deliveries where endpoint_id = ${e.id} and status = 'PENDING'`;
    expect(spent).toBe(0);
  });

  it("opens the circuit after 5 failures, holds deliveries while open, and closes on a good probe", async () => {
    const path = `/flaky/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 500 });
    const e = await endpoint(path);
    await sql`update public.webhook_endpoints set max_in_flight = 1 where id = ${e.id}`;
    for (let i = 0; i < 8; i++) await publish("order.updated", { n: i });
    for (let i = 0; i < 5; i++) {
      await dispatch();
      await timeTravel(e.id);
    }
    let [row] = await sql`select circuit_state, consecutive_failures from public.webhook_endpoints where id = ${e.id}`;
    expect(row).toMatchObject({ circuit_state: "open", consecutive_failures: 5 });
    const before = receiver.received(path).length;
    await dispatch();
    expect(receiver.received(path)).toHaveLength(before);
    const [{ failed }] = await sql`select count(*)::int as failed from public.webhook_deliveries where endpoint_id = ${e.id} and status <> 'PENDING'`;
    expect(failed).toBe(0);

    receiver.answer(path, { status: 200 });
    await sql`update public.webhook_endpoints set circuit_changed_at = now() - interval '1 hour' where id = ${e.id}`;
    await timeTravel(e.id);
    await sql`update public.webhook_endpoints set max_in_flight = 10 where id = ${e.id}`;
    await dispatch();
    [row] = await sql`select circuit_state from public.webhook_endpoints where id = ${e.id}`;
    expect(row.circuit_state).toBe("closed");
    await dispatch();
    const statuses = (await deliveriesOf(e.id)).map((d) => d.status);
    expect(statuses).toEqual(Array(8).fill("SUCCESS"));
  });

  it("disables an endpoint after 5 days of nothing but failures", async () => {
    const path = `/dying/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 500 });
    const e = await endpoint(path);
    await publish("order.updated", { n: 1 });
    await sql`update public.webhook_endpoints set failing_since = now() - interval '4 days 23 hours' where id = ${e.id}`;
    await dispatch();
    let [row] = await sql`select active, disabled_reason from public.webhook_endpoints where id = ${e.id}`;
    expect(row.active).toBe(true);

    await sql`update public.webhook_endpoints set failing_since = now() - interval '5 days 1 minute' where id = ${e.id}`;
    await timeTravel(e.id);
    await dispatch();
    [row] = await sql`select active, disabled_reason from public.webhook_endpoints where id = ${e.id}`;
    expect(row).toMatchObject({ active: false, disabled_reason: "no successful delivery for 5 days" });
    const [delivery] = await deliveriesOf(e.id);
    expect(delivery.status).toBe("PENDING");
  });

  it("refuses at delivery an endpoint that now points at loopback", async () => {
    const dispatcher = await serveFunction("webhook-dispatcher", { ...stack.env, LOG_LEVEL: "error", WEBHOOK_ALLOW_HTTP: "true" }, () => {});
    try {
      const e = await endpoint("/ssrf");
      await sql`update public.webhook_endpoints set url = ${receiver.url("/ssrf").replace("127.0.0.1", "localhost")} where id = ${e.id}`;
      await publish("order.updated", { n: 1 });
      await dispatch(`http://127.0.0.1:${dispatcher.port}/webhook-dispatcher`);
      const [delivery] = await deliveriesOf(e.id);
      expect(delivery.status).toBe("FAILED");
      expect(delivery.last_error).toMatch(/SSRF/);
      expect(receiver.received("/ssrf")).toHaveLength(0);
    } finally {
      await dispatcher.stop();
    }
  });
});

describe("replay and crashes", () => {
  it("replays a delivery and recovers an endpoint's failed ones", async () => {
    const path = `/replay/${randomUUID().slice(0, 6)}`;
    receiver.answer(path, { status: 400 });
    const e = await endpoint(path);
    await publish("order.updated", { n: 1 });
    await publish("order.updated", { n: 2 });
    await dispatch();
    expect((await deliveriesOf(e.id)).map((d) => d.status)).toEqual(["FAILED", "FAILED"]);
    receiver.answer(path, { status: 200 });
    const [first] = await deliveriesOf(e.id);
    await sql`select public.replay_webhook_delivery(${first.id})`;
    await dispatch();
    expect((await deliveriesOf(e.id)).map((d) => d.status)).toEqual(["SUCCESS", "FAILED"]);
    const [{ n }] = await sql`select public.recover_webhook_deliveries(${e.id}, now() - interval '1 hour', now() + interval '1 hour') as n`;
    expect(n).toBe(1);
    await dispatch();
    expect((await deliveriesOf(e.id)).map((d) => d.status)).toEqual(["SUCCESS", "SUCCESS"]);
  });

  it("loses nothing and sends nothing twice that was acknowledged when a dispatcher dies mid-batch", async () => {
    const fast = await endpoint(`/fast/${randomUUID().slice(0, 6)}`);
    const slowPath = `/slow/${randomUUID().slice(0, 6)}`;
    const slow = await endpoint(slowPath);
    receiver.answer(slowPath, "hang");
    const events = [];
    for (let i = 0; i < 20; i++) events.push(await publish("order.updated", { n: i }));
    const doomed = await serveFunction("webhook-dispatcher", { ...stack.env, LOG_LEVEL: "error", WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", WEBHOOK_TIMEOUT_MS: "60000" }, () => {});
    void dispatch(`http://127.0.0.1:${doomed.port}/webhook-dispatcher`).catch(() => {});
    // Kill it once the fast partner's deliveries are acknowledged and recorded, while ten
    // requests to the slow partner are still waiting for an answer (the slow partner must not
    // hold the fast one back: both have the default cap of 10 in flight).
    const acknowledged = async () =>
      (await deliveriesOf(fast.id)).filter((d) => d.status === "SUCCESS").length === 20 &&
      receiver.received(slowPath).length >= 10;
    await until(acknowledged, Boolean, "the fast deliveries to be acknowledged");
    doomed.process.kill("SIGKILL");
    await doomed.stop();
    receiver.release();

    await sql`update public.webhook_deliveries set locked_until = now() - interval '1 second' where status = 'PENDING'`;
    await dispatch();
    await dispatch();
    for (const e of [fast, slow]) expect((await deliveriesOf(e.id)).map((d) => d.status)).toEqual(Array(20).fill("SUCCESS"));
    const ids = (path: string) => receiver.received(path).map((r) => String(r.headers["webhook-id"]));
    // Acknowledged deliveries were never sent again.
    expect(ids(fast.path).sort()).toEqual([...events].sort());
    // The unacknowledged ones were resent with the same webhook-id, so a receiver that
    // de-duplicates on it (as Standard Webhooks asks) processes each event exactly once.
    expect([...new Set(ids(slowPath))].sort()).toEqual([...events].sort());
  });
});
