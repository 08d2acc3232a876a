import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripeEvent } from "../../dev/stripe/fixtures.ts";
import { postResend, svixId } from "../helpers/resend.ts";
import { createOrder, postStripe, testSql } from "../helpers/stack.ts";
import { until } from "../helpers/until.ts";

const sql = testSql();

// Forces the race that begin_webhook_event's lock exists for, instead of hoping for it: the
// first copy of an event stops just before it stores the event row, with its transaction open,
// and goes on only once another backend waits behind it, i.e. once the second copy has started
// and is blocked (on the lock, or without it on the effect's row). The trigger fires for the
// events this file lists in `held` only, so files sharing the database are unaffected; 500 ×
// 20 ms bounds the hold at 10 s if no second copy ever comes.
beforeAll(async () => {
  await sql.unsafe(`
    create schema test_dedup_race;
    create table test_dedup_race.held (event_id text primary key, released_by_second_copy boolean);
    create function test_dedup_race.hold_first_copy() returns trigger language plpgsql set search_path = '' as $$
    declare
      v_blocked boolean := false;
    begin
      if exists (select 1 from test_dedup_race.held h
                 where h.event_id = new.event_id and h.released_by_second_copy is null) then
        perform pg_catalog.set_config('application_name', 'holding ' || new.event_id, true);
        for i in 1..500 loop
          -- pg_locks, not pg_stat_activity: that one is a snapshot taken once per transaction.
          -- Only a wait on the event's lock or on a row counts: another file's DDL queued on a
          -- table this transaction wrote (email_queue) waits on the relation, and releasing for it
          -- ended the hold before the test had seen it.
          v_blocked := exists (select 1 from pg_catalog.pg_locks l
                               where not l.granted and l.locktype in ('advisory', 'transactionid', 'tuple')
                                 and pg_catalog.pg_backend_pid() = any (pg_catalog.pg_blocking_pids(l.pid)));
          exit when v_blocked;
          perform pg_catalog.pg_sleep(0.02);
        end loop;
        update test_dedup_race.held set released_by_second_copy = v_blocked where event_id = new.event_id;
      end if;
      return new;
    end $$;
    create trigger test_hold_first_copy before insert on public.webhook_events
      for each row execute function test_dedup_race.hold_first_copy();`);
});

afterAll(async () => {
  await sql.unsafe(`drop trigger test_hold_first_copy on public.webhook_events; drop schema test_dedup_race cascade;`);
});

/** Sends one copy, waits until it holds its transaction open, sends a second; both answers and whether the race happened. */
async function race(eventId: string, send: () => Promise<{ status: number; body: { duplicate?: boolean } }>) {
  await sql`insert into test_dedup_race.held (event_id) values (${eventId})`;
  const first = send();
  await until(
    () => sql`select 1 from pg_stat_activity where application_name = ${`holding ${eventId}`}`,
    (rows) => rows.length === 1,
    "the first copy to hold its transaction open",
  );
  const answers = await Promise.all([first, send()]);
  const [{ released_by_second_copy: forced }] = await sql`
    select released_by_second_copy from test_dedup_race.held where event_id = ${eventId}`;
  return { answers, forced };
}

async function eventRow(provider: string, eventId: string) {
  return await sql`select status, outcome, attempts from public.webhook_events where provider = ${provider} and event_id = ${eventId}`;
}

describe("a second copy while the first is still in its transaction", () => {
  it("stripe-webhook answers it as a duplicate and applies the payment once", async () => {
    const orderId = await createOrder(sql);
    const event = stripeEvent("payment_intent.succeeded", { orderId });
    const { answers, forced } = await race(event.id as string, () => postStripe(event));
    expect(forced).toBe(true);
    expect(await eventRow("stripe", event.id as string)).toEqual([
      { status: "processed", outcome: "order_status:paid", attempts: 1 },
    ]);
    expect(answers.map((a) => [a.status, a.body.duplicate])).toEqual([[200, false], [200, true]]);
    const [order] = await sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("paid");
    const emails = await sql`select template from public.email_queue where data ->> 'order_id' = ${orderId}`;
    expect(emails.map((e) => e.template)).toEqual(["order_confirmation"]);
  });

  it("resend-webhook answers it as a duplicate and records the delivery once", async () => {
    const messageId = randomUUID();
    const jobId = await sql.begin(async (tx) => {
      const [job] = await tx`select public.enqueue_email('password_reset', ${`race-${messageId}@example.com`},
        jsonb_build_object('reset_url', 'https://shop.example/r'), ${randomUUID()}) as id`;
      await tx`update public.email_queue set status = 'sending' where id = ${job.id}`;
      await tx`select public.complete_email_jobs(array[${job.id}]::uuid[], array[${messageId}])`;
      return job.id as string;
    });
    const id = svixId();
    const event = {
      type: "email.delivered",
      created_at: new Date().toISOString(),
      data: { email_id: messageId, from: "Shop <no-reply@example.com>", to: [`race-${messageId}@example.com`] },
    };
    const { answers, forced } = await race(id, () => postResend(event, { id }));
    expect(forced).toBe(true);
    expect(await eventRow("resend", id)).toEqual([{ status: "processed", outcome: "email_status:delivered", attempts: 1 }]);
    expect(answers.map((a) => [a.status, a.body.duplicate])).toEqual([[200, false], [200, true]]);
    const [job] = await sql`select status from public.email_queue where id = ${jobId}`;
    expect(job.status).toBe("delivered");
  });
});
