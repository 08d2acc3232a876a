import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveFunction } from "../../dev/stack/functions.ts";
import { signStripePayload, stripeEvent } from "../../dev/stripe/fixtures.ts";
import { operationsClient } from "../helpers/operations.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";

// Health, alerts, metrics, liveness and reprocessing, driven by real traffic through the
// functions. A stack of its own: health is about everything in the database, and retry and
// alerts touch every matching row.
let own: OwnStack;
let base: string;
const SERVICE = () => own.stack.env.SUPABASE_SERVICE_ROLE_KEY;
const { call, source, sample, post } = operationsClient(() => own);

beforeAll(async () => {
  own = await startOwnStack("operations-test", { LOG_LEVEL: "error", OPS_HEALTH_CACHE_SECONDS: "0" });
  base = `${own.stack.env.SUPABASE_URL}/functions/v1`;
  await own.sql.unsafe(`
    create schema if not exists ops_test;
    create table if not exists ops_test.flags (name text primary key);
    create or replace function ops_test.picky(event jsonb, source jsonb) returns text
    language plpgsql set search_path = '' as $$
    begin
      if exists (select 1 from ops_test.flags where name = 'refuse') then raise exception 'carrier unknown'; end if;
      return 'accepted';
    end $$;
    insert into ops_test.flags values ('refuse');
  `);
}, 120_000);

afterAll(async () => {
  await own?.close();
});



async function component(id: string) {
  const health = await call("GET", "operations/health?window=60");
  expect(health.status).toBe(200);
  return health.body.components.find((c: { component: string }) => c.component === `source:${id}`);
}

const alertsOf = (component: string) =>
  own.sql`select * from public.ops_alerts where component = ${component} order by check_name`;

describe("GET /operations/health", () => {
  it("is HEALTHY for a quiet suite, with every provider, email and outbound", async () => {
    const health = await call("GET", "operations/health");
    expect(health.body).toMatchObject({ status: "HEALTHY", window_minutes: 60, overall: { total: 0 } });
    const names = health.body.components.map((c: { component: string }) => c.component);
    expect(names).toEqual(expect.arrayContaining(["stripe", "resend", "email", "outbound"]));
  });

  it("goes DEGRADED with two failing checks, CRITICAL with three, and back, with one alert row each", async () => {
    const picky = await source({ handler: "ops_test.picky" });
    const requests = await Promise.all(Array.from({ length: 11 }, () => sample(picky)));
    for (const request of requests) expect(await post(request)).toBe(500);

    let health = await component(picky.id);
    expect(health).toMatchObject({ status: "DEGRADED", figures: { total: 11, failed: 11, success_rate: 0 } });
    expect(health.failing.sort()).toEqual(["recent_failures", "success_rate"]);
    const opened = await alertsOf(`source:${picky.id}`);
    expect(opened.map((a) => [a.alert_type, a.severity, a.status])).toEqual([
      ["HIGH_FAILURE_RATE", "ERROR", "open"],
      ["LOW_SUCCESS_RATE", "ERROR", "open"],
    ]);
    expect(opened[0].recommendation).toMatch(/retry-failed/);

    // Two more deliveries of each: three attempts on average, a third failing check.
    for (const request of [...requests, ...requests]) await post(request);
    health = await component(picky.id);
    expect(health.status).toBe("CRITICAL");
    expect(health.failing).toContain("avg_attempts");
    const still = await alertsOf(`source:${picky.id}`);
    expect(still).toHaveLength(3);
    expect(still.find((a) => a.check_name === "recent_failures")).toMatchObject({
      id: opened[0].id,
      first_seen_at: opened[0].first_seen_at,
    });

    // The fix, then one action: every event reprocessed through the source's handler.
    await own.sql`delete from ops_test.flags`;
    const filter = { source_id: picky.id };
    const dry = await call("POST", "operations/actions/retry-failed", { body: { filter, dry_run: true } });
    expect(dry.body).toMatchObject({ action: "retry-failed", dry_run: true, matched: 11 });
    const retried = await call("POST", "operations/actions/retry-failed", { body: { filter } });
    expect(retried.body).toMatchObject({ matched: 11, retried: 11, complete: true, outcomes: { processed: 11 } });
    health = await component(picky.id);
    expect(health.figures).toMatchObject({ processed: 11, failed: 0, success_rate: 1 });
    expect(health.failing).toEqual(["avg_attempts"]);
    const after = await alertsOf(`source:${picky.id}`);
    expect(after.filter((a) => a.status === "resolved").map((a) => a.check_name).sort()).toEqual([
      "recent_failures",
      "success_rate",
    ]);
  });

  it("flags a backlog, a stale item and redeliveries", async () => {
    const queued = await source({ mode: "async", batch_size: 1000, max_wait_seconds: 3600 });
    await Promise.all(Array.from({ length: 101 }, async () => expect(await post(await sample(queued))).toBe(202)));
    await own.sql`
      update public.webhook_events set received_at = now() - interval '31 minutes'
      where id = (select min(id) from public.webhook_events where source_id = ${queued.id})`;
    const backlog = await component(queued.id);
    expect(backlog.figures.pending).toBe(101);
    expect(backlog.failing.sort()).toEqual(["backlog", "oldest_pending_minutes"]);

    const noisy = await source({});
    const request = await sample(noisy);
    for (let i = 0; i < 7; i++) expect(await post(request)).toBe(200);
    const redelivered = await component(noisy.id);
    expect(redelivered).toMatchObject({ status: "DEGRADED", failing: ["duplicates"], figures: { duplicates: 6 } });
    const [alert] = await alertsOf(`source:${noisy.id}`);
    expect(alert).toMatchObject({ alert_type: "DUPLICATE_EVENTS", severity: "INFO" });
  });

  it("reads its thresholds from ops_thresholds", async () => {
    const noisy = await source({});
    const request = await sample(noisy);
    for (let i = 0; i < 3; i++) await post(request);
    expect((await component(noisy.id)).status).toBe("HEALTHY");
    await own.sql`update public.ops_thresholds set threshold = 1 where check_name = 'duplicates'`;
    try {
      expect((await component(noisy.id)).failing).toEqual(["duplicates"]);
    } finally {
      await own.sql`update public.ops_thresholds set threshold = 5 where check_name = 'duplicates'`;
    }
  });
});

describe("email and partner endpoints", () => {
  const worker = (name: string, action: string) =>
    fetch(`${base}/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${SERVICE()}` },
      body: JSON.stringify({ action }),
    }).then((r) => r.json());
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());

  it("email fails its checks when emails fail to render, through the real drain", async () => {
    for (let i = 0; i < 11; i++) {
      await own.sql`select public.enqueue_email('password_reset', ${`ops-${i}@example.com`}, '{}'::jsonb, ${randomUUID()})`;
    }
    await worker("email-service", "drain");
    const health = await call("GET", "operations/health");
    const email = health.body.components.find((c: { component: string }) => c.component === "email");
    expect(email).toMatchObject({ status: "DEGRADED", figures: { failed: 11, success_rate: 0 } });
    expect(email.failing.sort()).toEqual(["recent_failures", "success_rate"]);
  });

  it("an endpoint that refuses every delivery is down, failing and slow, as partners measure it", async () => {
    receiver.answer("/refuses", { status: 400 });
    const [endpoint] = await own.sql`
      insert into public.webhook_endpoints (url, event_types, secret)
      values (${receiver.url("/refuses")}, ${["production.*"]}, ${`whsec_${randomBytes(24).toString("base64")}`})
      returning id`;
    for (let i = 0; i < 7; i++) {
      await own.sql`select public.publish_event('production.completed', null, ${own.sql.json({ order_id: randomUUID(), quantity: i })})`;
    }
    await worker("webhook-dispatcher", "dispatch");
    expect(receiver.received("/refuses")).toHaveLength(7);
    const check = async () => {
      const health = await call("GET", "operations/health");
      return health.body.components.find((c: { component: string }) => c.component === `endpoint:${endpoint.id}`);
    };
    let down = await check();
    expect(down.figures).toMatchObject({ total: 7, failed: 7, failure_rate: 1, consecutive_failures: 7 });
    expect(down.failing.sort()).toEqual(["endpoint_consecutive_failures", "endpoint_failure_rate"]);
    expect(down.status).toBe("DEGRADED");
    // The response-time check, with a threshold every real answer exceeds: three failing checks.
    await own.sql`update public.ops_thresholds set threshold = 0 where check_name = 'endpoint_response_ms'`;
    try {
      down = await check();
      expect(down.status).toBe("CRITICAL");
    } finally {
      await own.sql`update public.ops_thresholds set threshold = 5000 where check_name = 'endpoint_response_ms'`;
    }
    const [alert] = await own.sql`
      select alert_type, severity from public.ops_alerts
      where component = ${`endpoint:${endpoint.id}`} and check_name = 'endpoint_consecutive_failures'`;
    expect(alert).toEqual({ alert_type: "ENDPOINT_DOWN", severity: "CRITICAL" });
  });
});

describe("alerts", () => {
  it("are published to partners as alert.opened, and can be acknowledged and resolved", async () => {
    await own.sql`
      insert into public.webhook_endpoints (url, event_types, secret)
      values ('http://127.0.0.1:9/alerts', ${["alert.*"]}, ${`whsec_${randomBytes(24).toString("base64")}`})`;
    const noisy = await source({});
    const request = await sample(noisy);
    for (let i = 0; i < 7; i++) await post(request);
    await component(noisy.id);
    const [published] = await own.sql`
      select data from public.outbound_events
      where type = 'alert.opened' and data -> 'object' ->> 'component' = ${`source:${noisy.id}`}`;
    expect(published.data.object).toMatchObject({ alert_type: "DUPLICATE_EVENTS", status: "open" });

    const [alert] = await alertsOf(`source:${noisy.id}`);
    const listed = await call("GET", "operations/alerts");
    expect(listed.body.data.map((a: { id: number }) => a.id)).toContain(alert.id);
    const acked = await call("POST", `operations/alerts/${alert.id}/acknowledge`);
    expect(acked.body).toMatchObject({ status: "acknowledged", acknowledged_by: "platform" });
    const resolved = await call("POST", `operations/alerts/${alert.id}/resolve`);
    expect(resolved.body).toMatchObject({ status: "resolved", resolved_by: "platform" });
    expect((await call("POST", "operations/alerts/999999999/resolve")).status).toBe(404);
  });
});

describe("GET /operations/metrics", () => {
  it("exports the health figures in the Prometheus text format", async () => {
    const quiet = await source({});
    await post(await sample(quiet));
    const metrics = await call("GET", "operations/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toMatch(/^text\/plain; version=0.0.4/);
    expect(metrics.body).toContain("# TYPE commerce_items_total gauge");
    expect(metrics.body).toMatch(new RegExp(`commerce_items_total\\{component="source:${quiet.id}",kind="source",name="ops"\\} 1\\n`));
    const email = (await call("GET", "operations/health")).body.components.find((c: { component: string }) => c.component === "email");
    const level = { HEALTHY: 0, DEGRADED: 1, CRITICAL: 2 }[email.status as "HEALTHY"];
    expect(metrics.body).toContain(`commerce_health_status{component="email",kind="email"} ${level}\n`);
    expect((await call("GET", "operations/metrics", { token: null })).status).toBe(401);
  });
});

describe("GET /operations/health/live", () => {
  it("answers up without credentials, and down when the database is gone", async () => {
    expect(await call("GET", "operations/health/live", { token: null })).toMatchObject({ status: 200, body: { status: "up" } });
    const env = { ...own.stack.env, SUPABASE_DB_URL: "postgresql://postgres:postgres@127.0.0.1:9/postgres", LOG_LEVEL: "error" };
    const dead = await serveFunction("operations", env as unknown as Record<string, string>, () => {});
    try {
      const response = await fetch(`http://127.0.0.1:${dead.port}/operations/health/live`);
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: "down" });
    } finally {
      await dead.stop();
    }
  });
});

describe("retry-event", () => {
  it("applies an unmatched Stripe event once its order exists, through stripe-webhook's own effect", async () => {
    const orderId = randomUUID();
    const payload = JSON.stringify(stripeEvent("payment_intent.succeeded", { orderId, amount: 4200 }));
    const secret = own.stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    const response = await fetch(`${base}/stripe-webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": await signStripePayload(payload, secret) },
      body: payload,
    });
    expect((await response.json()).status).toBe("unmatched");
    const [event] = await own.sql`select id::text as id from public.webhook_events where event_id = ${JSON.parse(payload).id}`;
    await own.sql`insert into public.orders (id, amount_total, currency) values (${orderId}, 4200, 'usd')`;
    const retried = await call("POST", "operations/actions/retry-event", { body: { id: event.id } });
    expect(retried.body).toMatchObject({ matched: 1, outcomes: { processed: 1 } });
    const [order] = await own.sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("paid");
    expect((await call("POST", "operations/actions/retry-event", { body: { id: event.id } })).status).toBe(404);
  });
});

describe("who may act", () => {
  it("refuses and audits a user who is not an admin, and another tenant's admin", async () => {
    const { SignJWT } = await import("jose");
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h")
        .sign(new TextEncoder().encode(own.stack.env.SUPABASE_JWT_SECRET));
    const user = await sign({ role: "authenticated", sub: randomUUID() });
    const refused = await call("POST", "operations/actions/cleanup", { token: user, body: { dry_run: true } });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    const [forbidden] = await own.sql`select kind from public.security_events where request_id = ${refused.body.requestId}`;
    expect(forbidden).toEqual({ kind: "forbidden" });

    const admin = await sign({ role: "authenticated", app_metadata: { role: "admin", tenant_id: randomUUID() } });
    const platformOnly = await call("POST", "operations/actions/cleanup", { token: admin, body: { dry_run: true } });
    expect(platformOnly.status).toBe(403);
    const other = await source({});
    await post(await sample(other));
    const [event] = await own.sql`select id::text as id from public.webhook_events where source_id = ${other.id}`;
    const notTheirs = await call("POST", "operations/actions/mark-processed", {
      token: admin,
      body: { filter: { ids: [event.id] } },
    });
    expect(notTheirs.body).toMatchObject({ matched: 0, marked: 0 });
    const audits = await own.sql`
      select details from public.security_events where kind = 'ops_action' and request_id = any(${[
      platformOnly.body.requestId,
      notTheirs.headers.get("x-request-id"),
    ]})`;
    expect(audits.map((a) => a.details.action).sort()).toEqual(["cleanup", "mark-processed"]);
    expect(audits.find((a) => a.details.action === "cleanup").details.params.refused).toBe("forbidden");
  });
});
