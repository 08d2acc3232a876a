import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { testSql } from "../helpers/stack.ts";

// The SQL that records a source's event and applies its effect (apply_inbound_event) and the
// async batch worker (process_inbound_events), called as inbound-webhook calls them.
const sql = testSql();

beforeAll(async () => {
  await sql.unsafe(`
    create schema if not exists test_inbound;
    create table if not exists test_inbound.leads (event_id text primary key, name text);
    create or replace function test_inbound.record_lead(event jsonb, source jsonb) returns text
    language sql set search_path = '' as $$
      insert into test_inbound.leads values (event ->> 'id', event -> 'payload' ->> 'name');
      select 'lead:' || (event -> 'payload' ->> 'name')
    $$;
    create or replace function test_inbound.refuse(event jsonb, source jsonb) returns text
    language plpgsql set search_path = '' as $$
    begin
      insert into test_inbound.leads values (event ->> 'id', 'never');
      raise exception 'lead rejected';
    end $$;
    create or replace function test_inbound.answer_pending(event jsonb, source jsonb) returns text
    language sql set search_path = '' as $$ select 'pending' $$;
  `);
});

async function createSource(fields: Record<string, unknown> = {}): Promise<string> {
  const row = { name: "crm", verifier: "none", handler: "test_inbound.record_lead", ...fields };
  const [source] = await sql`insert into public.webhook_sources ${sql(row)} returning id`;
  return source.id;
}

const apply = (sourceId: string, eventId: string, type: string, payload: unknown) =>
  sql`select * from public.apply_inbound_event(${sourceId}, ${eventId}, ${type}, ${sql.json(payload as never)}, 'req')`
    .then(([row]) => row);

const eventRow = (sourceId: string, eventId: string) =>
  sql`select status, outcome, error, attempts, next_attempt_at from public.webhook_events
      where source_id = ${sourceId} and event_id = ${eventId}`.then(([row]) => row);

describe("apply_inbound_event", () => {
  it("commits the handler's effect with the record, and a redelivery is a duplicate that does nothing", async () => {
    const source = await createSource();
    const id = randomUUID();
    expect(await apply(source, id, "lead.created", { name: "Ada" })).toMatchObject({
      status: "processed",
      outcome: "lead:Ada",
      duplicate: false,
    });
    expect(await apply(source, id, "lead.created", { name: "Ada" })).toMatchObject({ duplicate: true });
    const leads = await sql`select name from test_inbound.leads where event_id = ${id}`;
    expect(leads).toEqual([{ name: "Ada" }]);
  });

  it("rolls the record back with a raising handler", async () => {
    const source = await createSource({ handler: "test_inbound.refuse" });
    const id = randomUUID();
    await expect(apply(source, id, "lead.created", { name: "Bob" })).rejects.toThrow(/lead rejected/);
    expect(await eventRow(source, id)).toBeUndefined();
    expect(await sql`select 1 from test_inbound.leads where event_id = ${id}`).toHaveLength(0);
  });

  it("stores events the filter leaves out as ignored, without running the handler", async () => {
    const source = await createSource({ filter: ["lead.*"] });
    const id = randomUUID();
    expect(await apply(source, id, "opportunity.created", { name: "Cy" })).toMatchObject({ status: "ignored" });
    expect(await sql`select 1 from test_inbound.leads where event_id = ${id}`).toHaveLength(0);
  });

  it("refuses a handler's 'pending', which would leave the event undue for ever", async () => {
    const source = await createSource({ handler: "test_inbound.answer_pending" });
    await expect(apply(source, randomUUID(), "lead.created", {})).rejects.toThrow(/answered 'pending'/);
  });

  it("refuses an event for a disabled source", async () => {
    const source = await createSource({ active: false });
    await expect(apply(source, randomUUID(), "lead.created", {})).rejects.toThrow(/disabled/);
  });

  it("forwards by the first matching rule to the partner outbox in the same transaction", async () => {
    const tenant = randomUUID();
    await sql`insert into public.webhook_endpoints (url, secret, event_types, tenant_id)
              values ('https://partner.example/hook', 'whsec_dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0', ${[
      "inbound.lead",
    ]}, ${tenant})`;
    const source = await createSource({
      handler: null,
      tenant_id: tenant,
      forward: sql.json([{ match: "lead.*", type: "inbound.lead" }, { match: "*", type: "inbound.other" }]),
    });
    const id = randomUUID();
    expect(await apply(source, id, "lead.created", { name: "Di" })).toMatchObject({
      outcome: "forwarded:inbound.lead",
    });
    const [event] = await sql`select type, data from public.outbound_events
                              where tenant_id = ${tenant} and data -> 'object' -> 'event' ->> 'id' = ${id}`;
    expect(event.type).toBe("inbound.lead");
    expect(event.data.object.payload).toEqual({ name: "Di" });
  });

  it("applies exactly one of 25 concurrent copies", async () => {
    const source = await createSource();
    const id = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 25 }, () => apply(source, id, "lead.created", { name: "Eve" })),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    expect(await sql`select 1 from test_inbound.leads where event_id = ${id}`).toHaveLength(1);
  });
});

describe("process_inbound_events", () => {
  it("keeps an async source's events pending until the batch is full, then processes them", async () => {
    const source = await createSource({ mode: "async", batch_size: 3, max_wait_seconds: 3600 });
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    expect(await apply(source, ids[0], "lead.created", { name: "F0" })).toMatchObject({ status: "pending" });
    await apply(source, ids[1], "lead.created", { name: "F1" });
    const sourceEvents = sql`select count(*)::int as n from public.webhook_events
                             where source_id = ${source} and status = 'processed'`;
    await sql`select * from public.process_inbound_events(1000)`;
    expect((await sourceEvents)[0].n).toBe(0);
    await apply(source, ids[2], "lead.created", { name: "F2" });
    await sql`select * from public.process_inbound_events(1000)`;
    const [{ n }] = await sql`select count(*)::int as n from public.webhook_events
                              where source_id = ${source} and status = 'processed'`;
    expect(n).toBe(3);
    expect(await sql`select 1 from test_inbound.leads where event_id in ${sql(ids)}`).toHaveLength(3);
  });

  it("retries a raising handler on the schedule without undoing the rest of its batch", async () => {
    const source = await createSource({ mode: "async", handler: "test_inbound.refuse", max_wait_seconds: 0 });
    const id = randomUUID();
    await apply(source, id, "lead.created", { name: "G" });
    await sql`select * from public.process_inbound_events(1000)`;
    const row = await eventRow(source, id);
    expect(row).toMatchObject({ status: "pending", attempts: 2, error: "lead rejected" });
    expect(row.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
    expect(await sql`select 1 from test_inbound.leads where event_id = ${id}`).toHaveLength(0);
  });
});
