import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signStripePayload, stripeEvent } from "../../dev/stripe/fixtures.ts";
import { type HmacSource, operationsClient } from "../helpers/operations.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";

// The repair actions of /operations/actions/<name>, on a stack of their own: cleanup, retry,
// mark-processed, delete-event and auto-remediate touch every matching row in the database.
// The tests run in order and each sets up the rows it counts.
let own: OwnStack;
let base: string;
const SERVICE = () => own.stack.env.SUPABASE_SERVICE_ROLE_KEY;
const { call, source, sample, post } = operationsClient(() => own);

beforeAll(async () => {
  own = await startOwnStack("operations-actions", { LOG_LEVEL: "error", OPS_HEALTH_CACHE_SECONDS: "0" });
  base = `${own.stack.env.SUPABASE_URL}/functions/v1`;
  await own.sql.unsafe(`
    create schema if not exists ops_test;
    create table if not exists ops_test.flags (name text primary key);
    create or replace function ops_test.picky(event jsonb, source jsonb) returns text
    language plpgsql set search_path = '' as $$
    begin
      if exists (select 1 from ops_test.flags where name = 'refuse') then raise exception 'carrier unknown'; end if;
      if exists (select 1 from ops_test.flags where name = 'flaky') then raise exception 'connection reset by peer'; end if;
      return 'accepted';
    end $$;
  `);
}, 120_000);

afterAll(async () => {
  await own?.close();
});


/** Runs an action; answers the response and its one audit row's details. */
async function act(name: string, body?: unknown, token?: string | null) {
  const response = await call("POST", `operations/actions/${name}`, { body, token });
  const requestId = response.headers.get("x-request-id");
  const audits = await own.sql`
    select details, source from public.security_events where kind = 'ops_action' and request_id = ${requestId}`;
  return { ...response, audits: audits.map((a) => a.details) };
}

/** Expects a successful action, audited once with its name, dry_run and touched. */
async function ok(name: string, body: Record<string, unknown>, touched: number, token?: string) {
  const response = await act(name, body, token);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  expect(response.body).toMatchObject({ action: name, dry_run: body.dry_run === true });
  expect(response.audits).toEqual([
    { action: name, params: body, dry_run: body.dry_run === true, touched, client: expect.any(String) },
  ]);
  return response.body;
}

type Source = HmacSource;

const flag = async (name: string, on: boolean) => {
  if (on) await own.sql`insert into ops_test.flags values (${name}) on conflict do nothing`;
  else await own.sql`delete from ops_test.flags where name = ${name}`;
};

/** Posts one sample per type to `s` while its handler raises (flag `name`): each event fails. */
async function failing(s: Source, types: (string | undefined)[], name = "refuse") {
  await flag(name, true);
  for (const type of types) expect(await post(await sample(s, type))).toBe(500);
  await flag(name, false);
}

const admin = (tenantId: string = randomUUID()) =>
  sign({ role: "authenticated", app_metadata: { role: "admin", tenant_id: tenantId } });

const eventsOf = (s: Source) =>
  own.sql`select id::text as id, status, outcome, event_type from public.webhook_events where source_id = ${s.id} order by id`;

async function sign(claims: Record<string, unknown>) {
  const { SignJWT } = await import("jose");
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h")
    .sign(new TextEncoder().encode(own.stack.env.SUPABASE_JWT_SECRET));
}

const endpoint = async (fields: Record<string, unknown> = {}) => {
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const row = { url: "http://127.0.0.1:9/hook", event_types: ["test.none"], secret, ...fields };
  return (await own.sql`insert into public.webhook_endpoints ${own.sql(row)} returning id`)[0].id as string;
};
/** An outbound event and one delivery of it to `endpointId`, `age` old. */
const delivery = async (endpointId: string, status: string, age: string) => {
  const [row] = await own.sql`
    with e as (
      insert into public.outbound_events (type, api_version, data, created_at)
      values ('order.paid', '2026-11-22', '{}', now() - ${age}::interval) returning id)
    insert into public.webhook_deliveries (event_id, endpoint_id, status, attempts, created_at)
    select e.id, ${endpointId}, ${status}, 3, now() - ${age}::interval from e returning id, event_id`;
  return row as { id: string; event_id: string };
};
const email = async (status: string, age = "0 seconds", key = `ops:${randomUUID()}`) => {
  const [row] = await own.sql`
    insert into public.email_queue (template, recipient, data, status, idempotency_key, created_at)
    values ('order_confirmation', 'ada@example.com', '{"order_id": "o-1"}', ${status}, ${key}, now() - ${age}::interval)
    returning id, idempotency_key`;
  return row as { id: string; idempotency_key: string };
};
const backdate = (id: string, age: string) =>
  own.sql`update public.webhook_events set received_at = now() - ${age}::interval where id = ${id}`;

describe("cleanup", () => {
  it.each([
    ["older_than_days -1", { older_than_days: -1 }],
    ["older_than_days 0", { older_than_days: 0 }],
    ["older_than_days below the floor of 7", { older_than_days: 5 }],
    ["older_than_days past 3650", { older_than_days: 100_000 }],
    ["older_than_days as a string", { older_than_days: "30" }],
    ["failures kept shorter than successes", { older_than_days: 30, failed_older_than_days: 10 }],
    ["failures kept shorter than the default 30 days of successes", { failed_older_than_days: 10, dry_run: true }],
    ["an unknown field", { older_than_days: 30, keep: true }],
  ])("refuses %s with 400 invalid_request, audited as refused", async (_, body) => {
    const refused = await act("cleanup", body);
    expect(refused).toMatchObject({ status: 400, body: { error: { code: "invalid_request" } } });
    expect(refused.audits).toEqual([expect.objectContaining({ action: "cleanup", touched: 0, params: { ...body, refused: "invalid_request" } })]);
  });

  it("deletes settled rows past the retention, keeps recent failures, and a dry run only counts", async () => {
    const plain = await source({});
    const picky = await source({ handler: "ops_test.picky" });
    for (let i = 0; i < 2; i++) expect(await post(await sample(plain))).toBe(200);
    await failing(picky, [undefined, undefined]);
    const [oldDone, newDone] = await eventsOf(plain);
    const [failed40, failed91] = await eventsOf(picky);
    expect([oldDone.status, failed40.status]).toEqual(["processed", "failed"]);
    await backdate(oldDone.id, "31 days");
    await backdate(failed40.id, "40 days");
    await backdate(failed91.id, "91 days");
    const emails = {
      oldSent: await email("sent", "31 days"),
      newSent: await email("sent", "1 day"),
      dead40: await email("dead", "40 days"),
      dead91: await email("dead", "91 days"),
    };
    const hook = await endpoint();
    const oldSuccess = await delivery(hook, "SUCCESS", "31 days");
    const newSuccess = await delivery(hook, "SUCCESS", "1 day");
    const failed = await delivery(hook, "FAILED", "40 days");
    await own.sql`
      insert into public.webhook_delivery_attempts (delivery_id, attempt, started_at, duration_ms, status_code, outcome)
      values (${oldSuccess.id}, 1, now() - interval '31 days', 12, 200, 'success')`;

    const dry = await ok("cleanup", { dry_run: true }, 0);
    expect(dry).toMatchObject({
      action: "cleanup",
      dry_run: true,
      older_than_days: 30,
      failed_older_than_days: 90,
      tables: {
        webhook_events: { matched: 2 },
        email_queue: { matched: 2 },
        webhook_deliveries: { matched: 1 },
        outbound_events: { matched: 0 },
      },
    });
    expect((await eventsOf(plain)).length + (await eventsOf(picky)).length).toBe(4);

    const done = await ok("cleanup", {}, 6);
    expect(done).toMatchObject({
      complete: true,
      tables: {
        webhook_events: { deleted: 2, complete: true },
        email_queue: { deleted: 2, complete: true },
        webhook_deliveries: { deleted: 1, complete: true },
        outbound_events: { deleted: 1, complete: true },
      },
    });
    expect((await eventsOf(plain)).map((e) => e.id)).toEqual([newDone.id]);
    expect((await eventsOf(picky)).map((e) => e.id)).toEqual([failed40.id]);
    const leftEmails = await own.sql`select id from public.email_queue where id = any(${Object.values(emails).map((e) => e.id)})`;
    expect(leftEmails.map((e) => e.id).sort()).toEqual([emails.newSent.id, emails.dead40.id].sort());
    const leftDeliveries = await own.sql`select id from public.webhook_deliveries where endpoint_id = ${hook}`;
    expect(leftDeliveries.map((d) => d.id).sort()).toEqual([newSuccess.id, failed.id].sort());
    expect(await own.sql`select 1 from public.webhook_delivery_attempts where delivery_id = ${oldSuccess.id}`).toHaveLength(0);
    expect(await own.sql`select 1 from public.outbound_events where id = ${oldSuccess.event_id}`).toHaveLength(0);

    // Shorter retentions reach the 40-day failures, and then the outbound event no delivery refers to.
    const tight = await ok("cleanup", { older_than_days: 7, failed_older_than_days: 30 }, 4);
    expect(tight.tables).toMatchObject({
      webhook_events: { deleted: 1 },
      email_queue: { deleted: 1 },
      webhook_deliveries: { deleted: 1 },
      outbound_events: { deleted: 1 },
    });
    expect(await eventsOf(picky)).toHaveLength(0);
    expect(await own.sql`select 1 from public.outbound_events where id = ${failed.event_id}`).toHaveLength(0);
  });
});

describe("mark-processed and delete-event", () => {
  it("settle and remove what the filter matches, and count it on a dry run", async () => {
    const picky = await source({ handler: "ops_test.picky" });
    const other = await source({ handler: "ops_test.picky" });
    await failing(picky, ["order.shipped", "order.shipped", "order.paid"]);
    await failing(other, ["order.shipped"]);
    const [, , c] = await eventsOf(picky);
    const shipped = { source_id: picky.id, type: "order.shipped" };

    expect(await ok("mark-processed", { filter: shipped, dry_run: true }, 0)).toMatchObject({ matched: 2 });
    expect(await ok("mark-processed", { filter: { ...shipped, to: "2000-01-01T00:00:00Z" }, dry_run: true }, 0))
      .toMatchObject({ matched: 0 });
    expect(await ok("mark-processed", { filter: { ...shipped, status: "processed" }, dry_run: true }, 0))
      .toMatchObject({ matched: 0 });
    expect((await eventsOf(picky)).map((e) => e.status)).toEqual(["failed", "failed", "failed"]);
    expect(await ok("mark-processed", { filter: { ...shipped, from: "2000-01-01T00:00:00Z" } }, 2))
      .toMatchObject({ matched: 2, marked: 2, complete: true });
    expect((await eventsOf(picky)).map((e) => [e.status, e.outcome])).toEqual([
      ["processed", "marked_processed"],
      ["processed", "marked_processed"],
      ["failed", null],
    ]);
    expect((await eventsOf(other)).map((e) => e.status)).toEqual(["failed"]);

    expect(await ok("delete-event", { filter: { ids: [c.id] }, dry_run: true }, 0)).toMatchObject({ matched: 1 });
    expect(await ok("delete-event", { filter: { ids: [c.id] } }, 1)).toMatchObject({ matched: 1, deleted: 1 });
    expect(await ok("delete-event", { filter: { source_id: picky.id, status: ["processed"] } }, 2))
      .toMatchObject({ matched: 2, deleted: 2, complete: true });
    expect(await eventsOf(picky)).toHaveLength(0);
    expect(await eventsOf(other)).toHaveLength(1);
  });

  it.each(["mark-processed", "delete-event"])("%s refuses a filter matching over 10,000 rows, and a dry run counts them", async (name) => {
    const sourceId = randomUUID();
    await own.sql`
      insert into public.webhook_events (provider, event_id, event_type, payload, status)
      select ${`source:${sourceId}`}, 'bulk-' || g, 'bulk.test', jsonb_build_object('n', g), 'failed'
      from generate_series(1, 10001) g`;
    try {
      const filter = { source_id: sourceId };
      const refused = await act(name, { filter });
      expect(refused).toMatchObject({
        status: 422,
        body: { error: { code: "filter_too_broad", details: { matched: 10001, limit: 10000 } } },
      });
      expect(refused.audits).toEqual([expect.objectContaining({ touched: 0, params: { filter, refused: "filter_too_broad" } })]);
      const [{ n }] = await own.sql`select count(*)::int as n from public.webhook_events where source_id = ${sourceId} and status = 'failed'`;
      expect(n).toBe(10001);
      expect(await ok(name, { filter, dry_run: true }, 0)).toMatchObject({ matched: 10001 });
    } finally {
      await own.sql`delete from public.webhook_events where source_id = ${sourceId}`;
    }
  });
});

describe("retry-failed and retry-event", () => {
  it("reprocess a source's failures through its handler once fixed; a processed event is not retried", async () => {
    const picky = await source({ handler: "ops_test.picky" });
    await failing(picky, [undefined, undefined]);
    const filter = { source_id: picky.id };
    expect(await ok("retry-failed", { filter, dry_run: true }, 0)).toMatchObject({ matched: 2 });
    expect((await eventsOf(picky)).map((e) => e.status)).toEqual(["failed", "failed"]);
    expect(await ok("retry-failed", { filter }, 2)).toMatchObject({
      matched: 2,
      retried: 2,
      complete: true,
      outcomes: { processed: 2 },
      errors: [],
    });
    const events = await eventsOf(picky);
    expect(events.map((e) => [e.status, e.outcome])).toEqual([["processed", "accepted"], ["processed", "accepted"]]);
    const again = await act("retry-event", { id: events[0].id });
    expect(again).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
    expect(await ok("retry-failed", { filter }, 0)).toMatchObject({ matched: 0, retried: 0 });
  });

  it.each([
    ["retry-event", { id: "9999999999999999999" }, [400, 404]],
    ["mark-processed", { filter: { ids: ["9999999999999999999"] }, dry_run: true }, [200, 400]],
  ])("%s answers %j with no database error for an id past bigint's range", async (name, body, expected) => {
    const tooBig = await act(name, body);
    expect(expected, JSON.stringify(tooBig.body)).toContain(tooBig.status);
  });
});

describe("find-duplicates", () => {
  it("lists redeliveries, different ids with one payload, and no constraint violations", async () => {
    const noisy = await source({});
    const request = await sample(noisy);
    for (let i = 0; i < 3; i++) expect(await post(request)).toBe(200);
    const [redelivered] = await eventsOf(noisy);

    const byHeader = await source({ event_id: "x-delivery" });
    const once = await sample(byHeader);
    for (const id of ["d-1", "d-2"]) expect(await post({ ...once, headers: { ...once.headers, "x-delivery": id } })).toBe(200);
    expect(await eventsOf(byHeader)).toHaveLength(2);

    const found = await ok("find-duplicates", {}, 0);
    expect(found.window_minutes).toBe(1440);
    expect(found.redelivered).toContainEqual(expect.objectContaining({ id: redelivered.id, provider: `source:${noisy.id}`, duplicates: 2 }));
    expect(found.same_payload).toContainEqual(expect.objectContaining({ provider: `source:${byHeader.id}`, events: 2, event_ids: ["d-1", "d-2"] }));
    expect(found.same_payload.find((p: { provider: string }) => p.provider === `source:${noisy.id}`)).toBeUndefined();
    expect(found.constraint_violations).toEqual([]);
  });
});

describe("auto-remediate", () => {
  it("reports its four steps on a dry run, then fixes leases, transient failures, unmatched events and half-open circuits", async () => {
    const orderId = randomUUID();
    const payload = JSON.stringify(stripeEvent("payment_intent.succeeded", { orderId, amount: 4200 }));
    const stripeSecret = own.stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    const response = await fetch(`${base}/stripe-webhook`, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": await signStripePayload(payload, stripeSecret) },
      body: payload,
    });
    expect((await response.json()).status).toBe("unmatched");
    const flaky = await source({ handler: "ops_test.picky" });
    await failing(flaky, [undefined], "flaky");
    const stuck = await endpoint({ circuit_state: "half_open", circuit_changed_at: new Date(Date.now() - 11 * 60_000), consecutive_failures: 6 });
    const probing = await endpoint({ circuit_state: "half_open", circuit_changed_at: new Date(Date.now() - 5 * 60_000) });
    const leased = await email("sending");
    await own.sql`update public.email_queue set locked_until = now() - interval '1 minute' where id = ${leased.id}`;

    const steps = (fixed: number) =>
      ["release_expired_leases", "retry_transient_failures", "reconcile_unmatched", "close_half_open_circuits"]
        .map((step) => ({ step, found: 1, fixed }));
    expect((await ok("auto-remediate", { dry_run: true }, 0)).steps).toEqual(steps(0));
    expect((await eventsOf(flaky))[0].status).toBe("failed");
    const [circuit] = await own.sql`select circuit_state from public.webhook_endpoints where id = ${stuck}`;
    expect(circuit.circuit_state).toBe("half_open");

    await own.sql`insert into public.orders (id, amount_total, currency) values (${orderId}, 4200, 'usd')`;
    expect((await ok("auto-remediate", {}, 4)).steps).toEqual(steps(1));
    const [order] = await own.sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("paid");
    const [stripe] = await own.sql`select status from public.webhook_events where provider = 'stripe' and event_id = ${JSON.parse(payload).id}`;
    expect(stripe.status).toBe("processed");
    expect((await eventsOf(flaky)).map((e) => [e.status, e.outcome])).toEqual([["processed", "accepted"]]);
    const circuits = await own.sql`
      select id, circuit_state, consecutive_failures from public.webhook_endpoints where id = any(${[stuck, probing]})`;
    expect(circuits.find((c) => c.id === stuck)).toMatchObject({ circuit_state: "closed", consecutive_failures: 0 });
    expect(circuits.find((c) => c.id === probing)).toMatchObject({ circuit_state: "half_open" });
    await own.sql`update public.email_queue set status = 'sent', locked_until = null where id = ${leased.id}`;
  });
});

describe("email-cancel and email-resend", () => {
  it("cancels a pending email only", async () => {
    const pending = await email("pending");
    expect(await ok("email-cancel", { email_id: pending.id, dry_run: true }, 0)).toMatchObject({ status: "pending" });
    expect(await ok("email-cancel", { email_id: pending.id }, 1)).toMatchObject({ email_id: pending.id, status: "canceled" });
    const [row] = await own.sql`select status from public.email_queue where id = ${pending.id}`;
    expect(row.status).toBe("canceled");
    const sent = await email("sent");
    expect(await act("email-cancel", { email_id: sent.id })).toMatchObject({ status: 409, body: { error: { code: "not_cancelable" } } });
    expect(await act("email-cancel", { email_id: randomUUID() })).toMatchObject({ status: 404, body: { error: { code: "not_found" } } });
  });

  it("queues a dead email again under a new key, leaving the original as it was", async () => {
    const dead = await email("dead");
    await own.sql`update public.email_queue set attempts = 8, last_error = 'bounced twice' where id = ${dead.id}`;
    const first = await ok("email-resend", { email_id: dead.id }, 1);
    expect(first).toMatchObject({ email_id: dead.id, idempotency_key: `${dead.idempotency_key}:resend:1` });
    const [copy] = await own.sql`select * from public.email_queue where id = ${first.resent_as}`;
    expect(copy).toMatchObject({ status: "pending", attempts: 0, template: "order_confirmation", recipient: "ada@example.com", data: { order_id: "o-1" } });
    const [original] = await own.sql`select status, attempts, last_error, idempotency_key from public.email_queue where id = ${dead.id}`;
    expect(original).toEqual({ status: "dead", attempts: 8, last_error: "bounced twice", idempotency_key: dead.idempotency_key });
    const second = await ok("email-resend", { email_id: dead.id }, 1);
    expect(second.idempotency_key).toBe(`${dead.idempotency_key}:resend:2`);
    expect(await act("email-resend", { email_id: first.resent_as })).toMatchObject({ status: 409, body: { error: { code: "not_resendable" } } });
    expect(await act("email-resend", { email_id: randomUUID() })).toMatchObject({ status: 404 });
  });

  it("gives a resend a key of its own when an earlier resend was cleaned up", async () => {
    // resend:1 (canceled, past the retention) is gone; resend:2 died: the next resend must not reuse :resend:2.
    const dead = await email("dead");
    await email("dead", "0 seconds", `${dead.idempotency_key}:resend:2`);
    const again = await act("email-resend", { email_id: dead.id });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.idempotency_key).not.toBe(`${dead.idempotency_key}:resend:2`);
  });
});

describe("replay-delivery and recover-endpoint", () => {
  it("put an endpoint's failed deliveries back to PENDING", async () => {
    const hook = await endpoint();
    const failed = await delivery(hook, "FAILED", "2 hours");
    const exhausted = await delivery(hook, "RETRY_EXHAUSTED", "1 hour");
    const success = await delivery(hook, "SUCCESS", "1 hour");
    const older = await delivery(hook, "FAILED", "3 days");
    const statusOf = async (id: string) => (await own.sql`select status, attempts from public.webhook_deliveries where id = ${id}`)[0];

    expect(await ok("replay-delivery", { delivery_id: older.id, dry_run: true }, 0)).toMatchObject({ delivery_id: older.id });
    expect(await statusOf(older.id)).toEqual({ status: "FAILED", attempts: 3 });
    expect(await ok("replay-delivery", { delivery_id: older.id }, 1)).toMatchObject({ status: "PENDING" });
    expect(await statusOf(older.id)).toEqual({ status: "PENDING", attempts: 0 });
    expect(await act("replay-delivery", { delivery_id: randomUUID() })).toMatchObject({ status: 404 });

    const window = { endpoint_id: hook, from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date().toISOString() };
    expect(await ok("recover-endpoint", { ...window, dry_run: true }, 0)).toMatchObject({ matched: 2 });
    expect(await statusOf(failed.id)).toMatchObject({ status: "FAILED" });
    expect(await ok("recover-endpoint", window, 2)).toMatchObject({ matched: 2, replayed: 2 });
    expect(await Promise.all([failed, exhausted, success].map((d) => statusOf(d.id)))).toEqual([
      { status: "PENDING", attempts: 0 },
      { status: "PENDING", attempts: 0 },
      { status: "SUCCESS", attempts: 3 },
    ]);
    expect(await act("recover-endpoint", { ...window, endpoint_id: randomUUID() })).toMatchObject({ status: 404 });
    expect(await act("recover-endpoint", window, await admin())).toMatchObject({ status: 404 });
  });
});

describe("who may act", () => {
  it("answers 404 for an unknown action and 401 without a token", async () => {
    expect(await act("vacuum", {})).toMatchObject({ status: 404, body: { error: { code: "unknown_action" } } });
    expect((await act("cleanup", { dry_run: true }, null)).status).toBe(401);
  });

  it("refuses a user who is not an admin, as a forbidden security event", async () => {
    const user = await sign({ role: "authenticated", sub: randomUUID() });
    const refused = await act("cleanup", { dry_run: true }, user);
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    const events = await own.sql`select kind from public.security_events where request_id = ${refused.body.requestId}`;
    expect(events).toEqual([{ kind: "forbidden" }]);
  });

  it.each([
    ["cleanup", { dry_run: true }],
    ["auto-remediate", { dry_run: true }],
    ["find-duplicates", {}],
    ["email-cancel", { email_id: randomUUID() }],
  ])("refuses a tenant admin the platform-only %s, audited as refused", async (name, body) => {
    const refused = await act(name, body, await admin());
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "forbidden" } } });
    expect(refused.audits).toEqual([
      expect.objectContaining({ action: name, touched: 0, params: { ...body, refused: "forbidden" } }),
    ]);
  });

  it("lets a tenant admin retry its own source's failures, and none of another tenant's", async () => {
    const tenant = randomUUID();
    const mine = await source({ handler: "ops_test.picky", tenant_id: tenant });
    const theirs = await source({ handler: "ops_test.picky", tenant_id: randomUUID() });
    await failing(mine, [undefined]);
    await failing(theirs, [undefined]);
    const token = await admin(tenant);
    expect(await ok("retry-failed", { filter: { source_id: theirs.id } }, 0, token)).toMatchObject({ matched: 0, retried: 0 });
    expect((await eventsOf(theirs))[0].status).toBe("failed");
    expect(await ok("retry-failed", {}, 1, token)).toMatchObject({ matched: 1, outcomes: { processed: 1 } });
    expect((await eventsOf(mine))[0].status).toBe("processed");
    expect((await eventsOf(theirs))[0].status).toBe("failed");
  });
});
