import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { type CreatedSource, createSource, sampleFor, send } from "../helpers/sources.ts";
import { functionUrl, stack, testSql } from "../helpers/stack.ts";
import { until } from "../helpers/until.ts";

// What a source's events do, through inbound-webhook: dedup under concurrency, the filter, a
// SQL handler committing and rolling back with the record, forwarding to a partner's
// receiver, async batches, and the answers to bad input.
const sql = testSql();
const created: string[] = [];
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  await sql.unsafe(`
    create schema if not exists test_inbound_http;
    create table if not exists test_inbound_http.shipments (event_id text primary key, carrier text);
    create table if not exists test_inbound_http.flags (name text primary key);
    -- Records the shipment, then refuses it while the 'refuse' flag is set: the insert must roll back.
    create or replace function test_inbound_http.on_shipment(event jsonb, source jsonb) returns text
    language plpgsql set search_path = '' as $$
    begin
      insert into test_inbound_http.shipments values (event ->> 'id', event -> 'payload' -> 'data' ->> 'carrier');
      if exists (select 1 from test_inbound_http.flags where name = 'refuse') then
        raise exception 'carrier % is not contracted', event -> 'payload' -> 'data' ->> 'carrier';
      end if;
      return 'shipment:' || (event -> 'payload' -> 'data' ->> 'carrier');
    end $$;
  `);
});

afterAll(async () => {
  await sql`delete from public.webhook_sources where id = any(${created}::uuid[])`;
  await sql`delete from public.webhook_endpoints where url like ${receiver.url("/inbound-effects/%")}`;
  await sql.unsafe("drop schema test_inbound_http cascade");
  await receiver.close();
});

async function hmacSource(fields: Record<string, unknown> = {}): Promise<CreatedSource> {
  const source = await createSource({ name: "carrier", verifier: "hmac", event_id: "$.id", ...fields });
  created.push(source.id);
  return source;
}

const eventRow = (sourceId: string, eventId: string) =>
  sql`select status, outcome, error, attempts from public.webhook_events
      where source_id = ${sourceId} and event_id = ${eventId}`.then(([row]) => row);

async function processBatches(headers: Record<string, string> = { authorization: `Bearer ${stack.SUPABASE_SERVICE_ROLE_KEY}` }) {
  const response = await fetch(functionUrl("inbound-webhook"), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: '{"action":"process"}',
  });
  return { status: response.status, body: await response.json() };
}

describe("dedup", () => {
  it("applies exactly one of 25 concurrent copies; the other 24 answer 2xx duplicate", async () => {
    const source = await hmacSource({ handler: "test_inbound_http.on_shipment" });
    const request = await sampleFor(source);
    const answers = await Promise.all(Array.from({ length: 25 }, () => send(request)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(25).fill(200));
    expect(answers.filter((answer) => !answer.body.duplicate)).toHaveLength(1);
    const eventId = JSON.parse(request.body).id;
    expect(await sql`select carrier from test_inbound_http.shipments where event_id = ${eventId}`).toEqual([
      { carrier: "DHL" },
    ]);
    expect(await sql`select count(*)::int as n from public.webhook_events where source_id = ${source.id}`)
      .toEqual([{ n: 1 }]);
  });
});

describe("the filter", () => {
  it("stores events it leaves out as ignored, without running the handler", async () => {
    const source = await hmacSource({ filter: ["order.*"], handler: "test_inbound_http.on_shipment" });
    const request = await sampleFor(source, { type: "customer.created" });
    const answer = await send(request);
    expect(answer).toMatchObject({ status: 200, body: { status: "ignored", outcome: "ignored" } });
    expect(await sql`select 1 from test_inbound_http.shipments where event_id = ${JSON.parse(request.body).id}`)
      .toEqual([]);
  });

  it("that matches nothing still stores every event, answered 200", async () => {
    const source = await hmacSource({ filter: ["nothing.ever"] });
    const answer = await send(await sampleFor(source));
    expect(answer).toMatchObject({ status: 200, body: { status: "ignored" } });
  });
});

describe("a SQL handler", () => {
  it("commits its effect with the record, and its answer is the event's outcome", async () => {
    const source = await hmacSource({ handler: "test_inbound_http.on_shipment" });
    const request = await sampleFor(source);
    const answer = await send(request);
    expect(answer).toMatchObject({ status: 200, body: { status: "processed", outcome: "shipment:DHL" } });
    expect(await sql`select carrier from test_inbound_http.shipments where event_id = ${answer.body.id}`)
      .toEqual([{ carrier: "DHL" }]);
  });

  it("that raises answers 500 effect_failed, rolls its writes back, and the redelivery applies it", async () => {
    const source = await hmacSource({ handler: "test_inbound_http.on_shipment" });
    const request = await sampleFor(source);
    const eventId = JSON.parse(request.body).id;
    await sql`insert into test_inbound_http.flags values ('refuse')`;
    try {
      const failed = await send(request);
      expect(failed.status).toBe(500);
      expect(failed.body.error.code).toBe("effect_failed");
      expect(await sql`select 1 from test_inbound_http.shipments where event_id = ${eventId}`).toEqual([]);
      expect(await eventRow(source.id, eventId)).toMatchObject({
        status: "failed",
        error: expect.stringContaining("is not contracted"),
      });
    } finally {
      await sql`delete from test_inbound_http.flags where name = 'refuse'`;
    }
    const redelivered = await send(request);
    expect(redelivered).toMatchObject({ status: 200, body: { status: "processed", duplicate: false } });
    expect(await eventRow(source.id, eventId)).toMatchObject({ status: "processed", attempts: 2, error: null });
  });
});

describe("forwarding", () => {
  it("publishes the event to the partner outbox under the mapped type, and it reaches the receiver", async () => {
    const tenant = randomUUID();
    await sql`
      insert into public.webhook_endpoints (url, event_types, secret, tenant_id)
      values (${receiver.url("/inbound-effects/forward")}, ${["inbound.*"]},
              ${`whsec_${randomBytes(24).toString("base64")}`}, ${tenant})`;
    const source = await hmacSource({
      tenant_id: tenant,
      forward: [{ match: "invoice.*", type: "inbound.billing.invoice" }, { match: "order.*", type: "inbound.carrier.shipped" }],
    });
    const request = await sampleFor(source);
    const answer = await send(request);
    expect(answer.body).toMatchObject({ status: "processed", outcome: "forwarded:inbound.carrier.shipped" });
    await until(async () => {
      await fetch(functionUrl("webhook-dispatcher"), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${stack.SUPABASE_SERVICE_ROLE_KEY}` },
        body: '{"action":"dispatch"}',
      });
      return receiver.received("/inbound-effects/forward");
    }, (received) => received.length > 0, "the forwarded delivery");
    const [delivery] = receiver.received("/inbound-effects/forward");
    const envelope = JSON.parse(delivery.body);
    expect(envelope).toMatchObject({
      type: "inbound.carrier.shipped",
      tenant_id: tenant,
      data: { object: { source: { id: source.id }, event: { id: answer.body.id, type: "order.shipped" } } },
    });
    expect(envelope.data.object.payload).toEqual(JSON.parse(request.body));
    expect(delivery.headers["webhook-signature"]).toMatch(/^v1,/);
  });
});

describe("an async source", () => {
  it("answers 202 pending at once, and processes the batch when it is full", async () => {
    const source = await hmacSource({ mode: "async", batch_size: 2, max_wait_seconds: 3600, handler: "test_inbound_http.on_shipment" });
    const first = await send(await sampleFor(source));
    expect(first).toMatchObject({ status: 202, body: { status: "pending", duplicate: false } });
    await processBatches();
    expect(await eventRow(source.id, first.body.id)).toMatchObject({ status: "pending" });
    const second = await send(await sampleFor(source));
    expect(second.status).toBe(202);
    const run = await processBatches();
    expect(run.status).toBe(200);
    expect(run.body.processed).toBeGreaterThanOrEqual(2);
    for (const { body } of [first, second]) {
      expect(await eventRow(source.id, body.id)).toMatchObject({ status: "processed", outcome: "shipment:DHL" });
    }
  });

  it("processes a batch that is not full once its oldest event has waited max_wait_seconds", async () => {
    const source = await hmacSource({ mode: "async", batch_size: 100, max_wait_seconds: 0 });
    const answer = await send(await sampleFor(source));
    await processBatches();
    expect(await eventRow(source.id, answer.body.id)).toMatchObject({ status: "processed", outcome: "stored" });
  });

  it("takes the wake-up secret or the service role key, nothing else", async () => {
    expect((await processBatches({ "x-wakeup-secret": stack.INBOUND_WAKEUP_SECRET })).status).toBe(200);
    const refused = await processBatches({ "x-wakeup-secret": "not-the-secret-0123456789" });
    expect(refused).toMatchObject({ status: 401, body: { error: { code: "unauthorized" } } });
  });
});

describe("bad input", () => {
  let source: CreatedSource;
  beforeAll(async () => {
    source = await hmacSource();
  });

  it("a form body to a JSON source: 415", async () => {
    const request = await sampleFor(source);
    const answer = await send(request, { headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(answer.status).toBe(415);
    expect(answer.body.error.code).toBe("unsupported_media_type");
  });

  it("a garbled signature header: 401 invalid_signature", async () => {
    const answer = await send(await sampleFor(source), { headers: { "x-signature": "%%%not-hex" } });
    expect(answer).toMatchObject({ status: 401, body: { error: { code: "invalid_signature" } } });
  });

  it("a body over 1 MiB (2 MiB here): 413, and nothing stored", async () => {
    const request = await sampleFor(source);
    const answer = await send(request, { body: JSON.stringify({ id: "big", pad: "x".repeat(2 * 1024 * 1024) }) });
    expect(answer.status).toBe(413);
    expect(await eventRow(source.id, "big")).toBeUndefined();
  });

  it.each([
    ["a source id that is not a UUID", "not-a-uuid"],
    ["an unknown source id", randomUUID()],
  ])("%s: 404 source_not_found, logged as a security event", async (_label, id) => {
    const answer = await send({ url: functionUrl(`inbound-webhook/${id}`), headers: { "content-type": "application/json" }, body: "{}" });
    expect(answer).toMatchObject({ status: 404, body: { error: { code: "source_not_found" } } });
    const [event] = await sql`select kind from public.security_events where request_id = ${answer.body.requestId}`;
    expect(event).toEqual({ kind: "unknown_source" });
  });

  it("a disabled source: 404 source_not_found", async () => {
    const disabled = await hmacSource({ active: false });
    const answer = await send(await sampleFor(disabled));
    expect(answer).toMatchObject({ status: 404, body: { error: { code: "source_not_found" } } });
  });

  it("a handler that no longer exists: 500 effect_failed, and the event is kept as failed", async () => {
    await sql.unsafe(`create or replace function test_inbound_http.ephemeral(event jsonb, source jsonb) returns text
      language sql set search_path = '' as $$ select 'ok' $$`);
    const doomed = await hmacSource({ handler: "test_inbound_http.ephemeral" });
    await sql.unsafe("drop function test_inbound_http.ephemeral(jsonb, jsonb)");
    const request = await sampleFor(doomed);
    const answer = await send(request);
    expect(answer).toMatchObject({ status: 500, body: { error: { code: "effect_failed" } } });
    expect(await eventRow(doomed.id, JSON.parse(request.body).id)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("does not exist"),
    });
  });
});
