import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveFunction } from "../../dev/stack/functions.ts";
import type { ThrowawayStack } from "../../dev/stack/throwaway.ts";
import { signStripePayload, stripeEvent } from "../../dev/stripe/fixtures.ts";
import { jsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";
import { until } from "../helpers/until.ts";

// Draining claims every due job in the database: these tests run on a stack of their own.
let own: OwnStack;
let stack: ThrowawayStack;
let sql: postgres.Sql;

beforeAll(async () => {
  own = await startOwnStack("email-test", { LOG_LEVEL: "warn", EMAIL_DRAIN_SECONDS: "10" });
  ({ stack, sql } = own);
  await control("rate-limit", { perSecond: 0 });
}, 120_000);

afterAll(() => own?.close());

const fn = (name: string) => `${stack.env.SUPABASE_URL}/functions/v1/${name}`;

async function control(path: string, body: unknown) {
  const res = await fetch(`${stack.env.RESEND_BASE_URL}/_control/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(res.ok).toBe(true);
}

async function callEmailService(body: unknown, headers: Record<string, string> = {}, url = fn("email-service")) {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}`,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const drainNow = (url?: string) => callEmailService({ action: "drain" }, {}, url);

async function inboxFor(address: string) {
  const res = await fetch(`${stack.env.RESEND_BASE_URL}/inbox`);
  const { data } = await res.json() as { data: { to: string[] | string; subject: string; html: string; text: string }[] };
  return data.filter((mail) => [mail.to].flat().includes(address));
}

async function enqueue(template: string, to: string, data: Record<string, unknown>) {
  const [{ id }] = await sql`select public.enqueue_email(${template}, ${to}, ${jsonb(sql, data)}, ${randomUUID()}) as id`;
  return id as string;
}

async function job(id: string) {
  const [row] = await sql`select * from public.email_queue where id = ${id}`;
  return row;
}

const makeDue = (id: string) => sql`update public.email_queue set next_attempt_at = now() where id = ${id}`;
const address = (tag: string) => `${tag}-${randomUUID().slice(0, 8)}@example.com`;

describe("order emails, end to end", () => {
  it("pays an order through stripe-webhook, sends the confirmation, and records its delivery", async () => {
    const to = address("buyer");
    const [{ id: orderId }] = await sql`
      insert into public.orders (amount_total, currency, customer_email) values (4999, 'eur', ${to}) returning id`;
    const payload = JSON.stringify(stripeEvent("payment_intent.succeeded", { orderId }));
    const res = await fetch(fn("stripe-webhook"), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": await signStripePayload(payload, stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0]),
      },
      body: payload,
    });
    expect(res.status).toBe(200);
    const [queued] = await sql`select * from public.email_queue where data->>'order_id' = ${orderId}`;
    expect(queued).toMatchObject({ template: "order_confirmation", recipient: to, status: "pending" });

    expect((await drainNow()).body.sent).toBeGreaterThanOrEqual(1);
    const delivered = await until(() => job(queued.id), (row) => row.status === "delivered", "delivered");
    expect(delivered.provider_message_id).toBeTruthy();
    const [mail] = await inboxFor(to);
    expect(mail.subject).toBe(`Order confirmed: ${orderId}`);
    expect(mail.text).toContain("Total: €49.99");
  });
});

describe("exactly once", () => {
  it("never sends a job twice when two drains run at once", async () => {
    const tag = `pair-${randomUUID().slice(0, 6)}`;
    const ids = [];
    for (let i = 0; i < 250; i++) ids.push(await enqueue("password_reset", `${tag}-${i}@example.com`, { reset_url: "https://shop.example/r" }));
    const [a, b] = await Promise.all([drainNow(), drainNow()]);
    expect(a.body.sent + b.body.sent).toBe(250);
    const res = await fetch(`${stack.env.RESEND_BASE_URL}/inbox`);
    const { data } = await res.json() as { data: { to: string[] | string }[] };
    const mine = data.filter((mail) => [mail.to].flat()[0].startsWith(tag));
    expect(mine).toHaveLength(250);
    expect(new Set(mine.map((mail) => [mail.to].flat()[0])).size).toBe(250);
  });

  it("resends a crashed worker's request under the same key, so the provider replays it", async () => {
    const to = address("crash");
    const id = await enqueue("password_reset", to, { reset_url: "https://shop.example/r" });
    // The worker gets its email accepted, then hangs recording it: the moment a crash hurts most.
    await sql.unsafe(`
      create or replace function public.test_hold_completion() returns trigger language plpgsql set search_path = '' as $$
      begin
        if new.status = 'sent' and new.recipient = '${to}' then perform pg_sleep(60); end if;
        return new;
      end $$;
      create trigger test_hold_completion before update on public.email_queue
        for each row execute function public.test_hold_completion();`);
    const worker = await serveFunction("email-service", {
      ...stack.env,
      LOG_LEVEL: "error",
      EMAIL_LEASE_SECONDS: "60",
      SUPABASE_DB_URL: stack.env.DATABASE_URL,
    }, () => {});
    void drainNow(`http://127.0.0.1:${worker.port}/email-service`).catch(() => {});
    await until(() => inboxFor(to), (mails) => mails.length === 1, "the provider to accept the email");
    worker.process.kill("SIGKILL");
    await worker.stop();
    await sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'email-service' and query like '%complete_email_jobs%'`;
    await sql.unsafe(`drop trigger test_hold_completion on public.email_queue; drop function public.test_hold_completion();`);

    const stuck = await job(id);
    expect(stuck.status).toBe("sending");
    await sql`update public.email_queue set locked_until = now() - interval '1 second' where id = ${id}`;
    const report = await drainNow();
    expect(report.body.sent).toBeGreaterThanOrEqual(1);
    const after = await job(id);
    expect(["sent", "delivered"]).toContain(after.status);
    expect(after.send_key).toBe(stuck.send_key);
    expect(await inboxFor(to)).toHaveLength(1);
  });
});

describe("provider failures", () => {
  it("retries a 500 with the same key and sends once", async () => {
    const to = address("five-hundred");
    const id = await enqueue("password_reset", to, { reset_url: "https://shop.example/r" });
    await control("failures", { status: 500, count: 1 });
    expect((await drainNow()).body.retried).toBe(1);
    const retry = await job(id);
    expect(retry).toMatchObject({ status: "pending", attempts: 1 });
    expect(retry.last_error).toContain("500");
    expect(retry.send_key).toBeTruthy();
    expect(retry.next_attempt_at.getTime()).toBeGreaterThan(Date.now());
    await makeDue(id);
    await drainNow();
    expect((await job(id)).status).toMatch(/sent|delivered/);
    expect(await inboxFor(to)).toHaveLength(1);
  });

  it("waits out a 429 without spending an attempt", async () => {
    const to = address("throttled");
    const id = await enqueue("password_reset", to, { reset_url: "https://shop.example/r" });
    await control("failures", { status: 429, count: 1, retryAfter: 7 });
    expect((await drainNow()).body.throttled).toBe(1);
    const waiting = await job(id);
    expect(waiting).toMatchObject({ status: "pending", attempts: 0, send_key: null });
    const wait = (waiting.next_attempt_at.getTime() - Date.now()) / 1000;
    expect(wait).toBeGreaterThan(5);
    expect(wait).toBeLessThanOrEqual(7);
    await makeDue(id);
    await drainNow();
    expect(await inboxFor(to)).toHaveLength(1);
  });

  it("treats a timeout as unknown and resends the same request", async () => {
    const to = address("timeout");
    const id = await enqueue("password_reset", to, { reset_url: "https://shop.example/r" });
    const worker = await serveFunction("email-service", { ...stack.env, LOG_LEVEL: "error", RESEND_TIMEOUT_MS: "500" }, () => {});
    try {
      await control("failures", { mode: "timeout", count: 1 });
      expect((await drainNow(`http://127.0.0.1:${worker.port}/email-service`)).body.retried).toBe(1);
      const retry = await job(id);
      expect(retry.status).toBe("pending");
      await makeDue(id);
      await drainNow(`http://127.0.0.1:${worker.port}/email-service`);
      expect((await job(id)).send_key).toBe(retry.send_key);
      expect(await inboxFor(to)).toHaveLength(1);
    } finally {
      await worker.stop();
    }
  });

  it("dead-letters a job with its last error after the last attempt", async () => {
    const to = address("dead");
    const id = await enqueue("password_reset", to, { reset_url: "https://shop.example/r" });
    await sql`update public.email_queue set max_attempts = 2 where id = ${id}`;
    await control("failures", { status: 503, count: 2 });
    await drainNow();
    await makeDue(id);
    await drainNow();
    const dead = await job(id);
    expect(dead).toMatchObject({ status: "dead", attempts: 2 });
    expect(dead.last_error).toContain("503");
    expect(await inboxFor(to)).toHaveLength(0);
  });
});

describe("what is never sent", () => {
  it("respects the suppression list, at enqueue and at send time", async () => {
    const early = address("suppressed-early");
    const late = address("suppressed-late");
    await sql`insert into public.email_suppressions (email, reason) values (${early}, 'hard_bounce')`;
    const first = await enqueue("password_reset", early, { reset_url: "https://shop.example/r" });
    expect((await job(first)).status).toBe("suppressed");
    const second = await enqueue("password_reset", late, { reset_url: "https://shop.example/r" });
    await sql`insert into public.email_suppressions (email, reason) values (${late}, 'complaint')`;
    await drainNow();
    expect((await job(second)).status).toBe("suppressed");
    expect([...await inboxFor(early), ...await inboxFor(late)]).toHaveLength(0);
  });

  it("fails a job with a missing variable instead of sending a broken email", async () => {
    const to = address("template");
    const id = await enqueue("password_reset", to, {});
    await drainNow();
    const failed = await job(id);
    expect(failed.status).toBe("failed");
    expect(failed.last_error).toBe("missing template variable(s): reset_url");
    expect(await inboxFor(to)).toHaveLength(0);
  });

  it("escapes variables in HTML", async () => {
    const to = address("escape");
    await enqueue("quote_submitted", to, { name: "<script>alert(1)</script>", quote_id: "Q-1" });
    await drainNow();
    const [mail] = await inboxFor(to);
    expect(mail.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(mail.html).not.toContain("<script>");
    expect(mail.text).toContain("<script>alert(1)</script>");
  });
});

describe("the send action", () => {
  it("queues an email, answers 202 with the job id, and replays for the same Idempotency-Key", async () => {
    const body = { action: "send", template: "password_reset", to: address("api"), data: { reset_url: "https://shop.example/r" } };
    const key = randomUUID();
    const first = await callEmailService(body, { "idempotency-key": key });
    expect(first.status).toBe(202);
    const again = await callEmailService(body, { "idempotency-key": key });
    expect(again.body.id).toBe(first.body.id);
    const [{ count }] = await sql`select count(*)::int from public.email_queue where recipient = ${body.to}`;
    expect(count).toBe(1);
  });

  it("refuses bad input, a missing credential, and a wake-up secret that tries to send", async () => {
    expect((await callEmailService({ action: "send", template: "password_reset", to: "nope" })).status).toBe(400);
    const noAuth = await fetch(fn("email-service"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"action":"drain"}',
    });
    expect(noAuth.status).toBe(401);
    const wakeup = await fetch(fn("email-service"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-wakeup-secret": stack.env.EMAIL_WAKEUP_SECRET },
      body: JSON.stringify({ action: "send", template: "password_reset", to: "a@example.com", data: {} }),
    });
    expect(wakeup.status).toBe(403);
  });
});
