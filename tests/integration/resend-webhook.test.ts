import { randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { beforeAll, describe, expect, it } from "vitest";
import { jsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { HANDLED_EVENT_TYPES } from "../../supabase/functions/resend-webhook/plan-event.ts";
import { postResend, resendSecret, svixHeaders, svixId } from "../helpers/resend.ts";
import { functionUrl, stack, testSql } from "../helpers/stack.ts";

const sql = testSql();
const address = (tag: string) => `${tag}-${randomUUID()}@example.com`;
const secondsAgo = (seconds: number) => new Date(Date.now() - seconds * 1000);

/** The body Resend posts for an email event. */
function resendEvent(type: string, messageId: string, options: { at?: Date; to?: string[]; data?: object } = {}) {
  return {
    type,
    created_at: (options.at ?? new Date()).toISOString(),
    data: {
      email_id: messageId,
      from: "Shop <no-reply@example.com>",
      to: options.to ?? [address("to")],
      subject: "Reset your password",
      ...options.data,
    },
  };
}

/**
 * A job as email-service holds it while sending: claimed by id (claim_email_jobs would take
 * other files' jobs too). Enqueued and marked in one transaction, so the stack's worker
 * never sees it pending.
 */
async function sendingJob(recipient: string, messageId = randomUUID(), data: object = {}) {
  const id = await sql.begin(async (tx) => {
    const [job] = await tx`
      select public.enqueue_email('password_reset', ${recipient},
        ${jsonb(sql, { reset_url: "https://e.x", ...data })}, ${randomUUID()}) as id`;
    await tx`update public.email_queue set status = 'sending', locked_until = now() + interval '1 hour'
             where id = ${job.id}`;
    return job.id as string;
  });
  return { id, messageId };
}

/** A job as email-service leaves it after a send: completed with `messageId`. */
async function sentJob(recipient: string, messageId = randomUUID(), data: object = {}) {
  const job = await sendingJob(recipient, messageId, data);
  await sql`select public.complete_email_jobs(array[${job.id}]::uuid[], array[${messageId}])`;
  return job;
}

async function jobOf(id: string) {
  const [row] = await sql`select * from public.email_queue where id = ${id}`;
  return row;
}

async function eventRow(id: string) {
  const [row] = await sql`select * from public.webhook_events where provider = 'resend' and event_id = ${id}`;
  return row;
}

async function suppressionOf(email: string) {
  const [row] = await sql`select * from public.email_suppressions where email = ${email}`;
  return row;
}

async function securityKinds(source: string) {
  return (await sql`select kind from public.security_events where source = ${source} order by id`).map((r) => r.kind);
}

beforeAll(async () => {
  // Stands in for any effect that raises (a constraint, a downstream trigger) on the jobs a
  // test marks, until an operator fixes the cause.
  await sql.unsafe(`
    create schema if not exists test_resend_support;
    create or replace function test_resend_support.fail_resend_effect() returns trigger language plpgsql set search_path = '' as $$
    begin
      if new.data ? 'fail_resend_effect' and new.status is distinct from old.status
         and new.status not in ('pending', 'sending', 'sent') then
        raise exception 'downstream trigger failed';
      end if;
      return new;
    end $$;
    drop trigger if exists test_fail_resend_effect on public.email_queue;
    create trigger test_fail_resend_effect before update on public.email_queue
      for each row execute function test_resend_support.fail_resend_effect();
  `);
});

describe("delivery status", () => {
  it("marks a sent email delivered and answers after storing the event", async () => {
    const job = await sentJob(address("delivered"));
    const at = secondsAgo(5);
    const id = svixId();
    const res = await postResend(resendEvent("email.delivered", job.messageId, { at }), { id });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      received: true,
      id,
      type: "email.delivered",
      status: "processed",
      outcome: "email_status:delivered",
      duplicate: false,
    });
    const row = await jobOf(job.id);
    expect(row.status).toBe("delivered");
    expect(row.delivered_at.getTime()).toBe(at.getTime());
    expect(await eventRow(id)).toMatchObject({ status: "processed", event_type: "email.delivered", attempts: 1 });
  });

  it("never moves a status backwards, and lets a complaint follow a delivery", async () => {
    const job = await sentJob(address("order"));
    await postResend(resendEvent("email.delivered", job.messageId, { at: secondsAgo(10) }));
    const late = await postResend(resendEvent("email.sent", job.messageId, { at: secondsAgo(20) }));
    expect(late.body.outcome).toBe("email_status_kept:delivered");
    expect((await jobOf(job.id)).status).toBe("delivered");

    const complained = await postResend(resendEvent("email.complained", job.messageId));
    expect(complained.body.outcome).toBe("email_status:complained");
    const bounced = await postResend(resendEvent("email.bounced", job.messageId, { data: { bounce: { type: "Transient" } } }));
    expect(bounced.body.outcome).toBe("email_status_kept:complained");
    expect((await jobOf(job.id)).status).toBe("complained");
  });

  it("records opens and clicks as their first time, without changing the status", async () => {
    const job = await sentJob(address("opened"));
    const first = secondsAgo(30);
    await postResend(resendEvent("email.delivered", job.messageId, { at: secondsAgo(40) }));
    const opened = await postResend(resendEvent("email.opened", job.messageId, { at: secondsAgo(10) }));
    expect(opened.body).toMatchObject({ status: "processed", outcome: "email_opened" });
    await postResend(resendEvent("email.opened", job.messageId, { at: first }));
    const clicked = await postResend(resendEvent("email.clicked", job.messageId, { at: first }));
    expect(clicked.body.outcome).toBe("email_clicked");
    await postResend(resendEvent("email.clicked", job.messageId, { at: secondsAgo(5) }));
    const row = await jobOf(job.id);
    expect(row.status).toBe("delivered");
    expect(row.opened_at.getTime()).toBe(first.getTime());
    expect(row.clicked_at.getTime()).toBe(first.getTime());
  });

  it("notes a delivery delay without changing anything", async () => {
    const job = await sentJob(address("delayed"));
    const before = await jobOf(job.id);
    const res = await postResend(resendEvent("email.delivery_delayed", job.messageId));
    expect(res.body).toMatchObject({ status: "processed", outcome: "email_delivery_delayed" });
    expect(await jobOf(job.id)).toEqual(before);
  });

  it("marks a failed send failed with the provider's reason", async () => {
    const job = await sentJob(address("failed"));
    await postResend(resendEvent("email.failed", job.messageId, { data: { failed: { reason: "reached_daily_quota" } } }));
    const row = await jobOf(job.id);
    expect(row.status).toBe("failed");
    expect(row.last_error).toBe("failed: reached_daily_quota");
  });

  it("leaves a canceled job canceled, adding only timestamps", async () => {
    const job = await sentJob(address("canceled"));
    await sql`update public.email_queue set status = 'canceled' where id = ${job.id}`;
    const res = await postResend(resendEvent("email.delivered", job.messageId));
    expect(res.body.outcome).toBe("email_status_kept:canceled");
    const row = await jobOf(job.id);
    expect(row.status).toBe("canceled");
    expect(row.delivered_at).toBeInstanceOf(Date);
  });
});

describe("suppression list", () => {
  it("suppresses a hard bounce's recipient, lowercased, and keeps the bounce message", async () => {
    const recipient = address("hard");
    const job = await sentJob(recipient);
    const id = svixId();
    const bounce = { type: "Permanent", subType: "General", message: "550 5.1.1 user unknown" };
    const res = await postResend(
      resendEvent("email.bounced", job.messageId, { to: [`Someone <${recipient.toUpperCase()}>`], data: { bounce } }),
      { id },
    );
    expect(res.body).toMatchObject({ status: "processed", outcome: "email_status:bounced" });
    const row = await jobOf(job.id);
    expect(row.status).toBe("bounced");
    expect(row.last_error).toBe("bounced (Permanent/General): 550 5.1.1 user unknown");
    expect(await suppressionOf(recipient)).toMatchObject({ reason: "hard_bounce", source_event_id: id });
  });

  it("does not suppress a transient bounce", async () => {
    const recipient = address("soft");
    const job = await sentJob(recipient);
    const bounce = { type: "transient", subType: "MailboxFull", message: "mailbox full" };
    await postResend(resendEvent("email.bounced", job.messageId, { to: [recipient], data: { bounce } }));
    expect((await jobOf(job.id)).status).toBe("bounced");
    expect(await suppressionOf(recipient)).toBeUndefined();
  });

  it("treats a bounce without a type as hard, and falls back to the job's recipient", async () => {
    const recipient = address("untyped");
    const job = await sentJob(recipient);
    const event = resendEvent("email.bounced", job.messageId);
    delete (event.data as { to?: string[] }).to;
    await postResend(event);
    expect(await suppressionOf(recipient)).toMatchObject({ reason: "hard_bounce" });
  });

  it("suppresses a complaint's recipient", async () => {
    const recipient = address("complaint");
    const job = await sentJob(recipient);
    await postResend(resendEvent("email.complained", job.messageId, { to: [recipient] }));
    expect((await jobOf(job.id)).status).toBe("complained");
    expect(await suppressionOf(recipient)).toMatchObject({ reason: "complaint" });
  });

  it("records email.suppressed as suppressed and adds the address", async () => {
    const recipient = address("provider");
    const job = await sentJob(recipient);
    const suppressed = { type: "OnAccountSuppressionList", message: "on the suppression list" };
    await postResend(resendEvent("email.suppressed", job.messageId, { to: [recipient], data: { suppressed } }));
    const row = await jobOf(job.id);
    expect(row).toMatchObject({ status: "suppressed", last_error: "suppressed: on the suppression list" });
    expect(await suppressionOf(recipient)).toMatchObject({ reason: "provider_suppressed" });
  });

  it("suppresses even when the message is not (yet) known, and new mail to it is not sent", async () => {
    const recipient = address("unknown-hard");
    await postResend(resendEvent("email.bounced", randomUUID(), { to: [recipient], data: { bounce: { type: "Permanent" } } }));
    expect(await suppressionOf(recipient)).toMatchObject({ reason: "hard_bounce" });
    const [{ id }] = await sql`select public.enqueue_email('password_reset', ${recipient}, '{}'::jsonb, ${randomUUID()}) as id`;
    expect((await jobOf(id)).status).toBe("suppressed");
  });
});

describe("events that arrive before the message id is known", () => {
  it("stores them unmatched, then applies them in order when complete_email_jobs stores the id", async () => {
    const messageId = randomUUID();
    const delivered = svixId();
    const opened = svixId();
    const at = secondsAgo(30);
    await postResend(resendEvent("email.opened", messageId, { at: secondsAgo(20) }), { id: opened });
    const res = await postResend(resendEvent("email.delivered", messageId, { at }), { id: delivered });
    expect(res.body).toMatchObject({ status: "unmatched", outcome: "unmatched_message", duplicate: false });
    expect((await eventRow(delivered)).payload.data.email_id).toBe(messageId);

    const job = await sentJob(address("early"), messageId);
    const row = await jobOf(job.id);
    expect(row.status).toBe("delivered");
    expect(row.delivered_at.getTime()).toBe(at.getTime());
    expect(row.opened_at).toBeInstanceOf(Date);
    expect(await eventRow(delivered)).toMatchObject({ status: "processed", outcome: "email_status:delivered" });
    expect(await eventRow(opened)).toMatchObject({ status: "processed", outcome: "email_opened" });
  });

  it("still completes the job when a waiting event fails to apply, and flags the event", async () => {
    const { id, messageId } = await sendingJob(address("early-fail"), randomUUID(), { fail_resend_effect: true });
    const eventId = svixId();
    const event = resendEvent("email.delivered", messageId);
    await postResend(event, { id: eventId });
    const [{ done }] = await sql`select public.complete_email_jobs(array[${id}]::uuid[], array[${messageId}]) as done`;
    expect(done).toBe(1);
    expect((await jobOf(id)).status).toBe("sent");
    expect(await eventRow(eventId)).toMatchObject({ status: "failed", error: "downstream trigger failed" });

    await sql`update public.email_queue set data = '{}' where id = ${id}`;
    expect((await postResend(event, { id: eventId })).body).toMatchObject({ status: "processed", duplicate: false });
    expect((await jobOf(id)).status).toBe("delivered");
  });

  // The function's call, made here on a connection of the test's choosing so the race can be
  // staged: each side holds its transaction open while the other starts.
  const applyDelivered = (db: typeof sql, id: string, messageId: string) =>
    db`select * from public.apply_resend_event(${id}, 'email.delivered', now(),
         ${jsonb(db, resendEvent("email.delivered", messageId))}, ${messageId}, null, '{}', 'race')`;

  it("applies an event that arrives while the worker is storing its message id", async () => {
    const { id, messageId } = await sendingJob(address("race-worker-first"));
    let webhook: Promise<{ status: string }[]> | undefined;
    await sql.begin(async (tx) => {
      await tx`select public.complete_email_jobs(array[${id}]::uuid[], array[${messageId}])`;
      webhook = applyDelivered(sql, svixId(), messageId).execute() as unknown as Promise<{ status: string }[]>;
      await sleep(300);
    });
    const [result] = await webhook!;
    expect(result.status).toBe("processed");
    expect((await jobOf(id)).status).toBe("delivered");
  });

  it("reconciles an event that is being stored unmatched while the worker stores its message id", async () => {
    const { id, messageId } = await sendingJob(address("race-webhook-first"));
    const eventId = svixId();
    let completing: Promise<unknown> | undefined;
    await sql.begin(async (tx) => {
      const [result] = await applyDelivered(tx, eventId, messageId);
      expect(result.status).toBe("unmatched");
      completing = sql`select public.complete_email_jobs(array[${id}]::uuid[], array[${messageId}])`.execute();
      await sleep(300);
    });
    await completing;
    expect((await jobOf(id)).status).toBe("delivered");
    expect((await eventRow(eventId)).status).toBe("processed");
  });

  it.each(HANDLED_EVENT_TYPES)("keeps %s for an unknown message as unmatched, never ignored", async (type) => {
    const res = await postResend(resendEvent(type, randomUUID()));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "unmatched", outcome: "unmatched_message" });
  });

  it("stores a type it does not handle as ignored", async () => {
    const id = svixId();
    const event = { type: "contact.created", created_at: new Date().toISOString(), data: { id: randomUUID() } };
    const res = await postResend(event, { id });
    expect(res.body).toMatchObject({ status: "ignored", outcome: "ignored" });
    expect((await eventRow(id)).payload).toEqual(event);
  });
});

describe("exactly once", () => {
  it("answers a redelivery with duplicate: true and does nothing again", async () => {
    const job = await sentJob(address("dup"));
    const id = svixId();
    const event = resendEvent("email.delivered", job.messageId);
    expect((await postResend(event, { id })).body.duplicate).toBe(false);
    const after = await jobOf(job.id);
    const again = await postResend(event, { id });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "processed", outcome: "email_status:delivered", duplicate: true });
    expect(await jobOf(job.id)).toEqual(after);
    expect((await eventRow(id)).attempts).toBe(1);
  });

  it("applies 20 concurrent copies of one event exactly once", async () => {
    const recipient = address("concurrent");
    const job = await sentJob(recipient);
    const event = resendEvent("email.complained", job.messageId, { to: [recipient] });
    const payload = JSON.stringify(event);
    const headers = svixHeaders(payload);
    const responses = await Promise.all(Array.from({ length: 20 }, () =>
      fetch(functionUrl("resend-webhook"), {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: payload,
      }).then(async (res) => ({ status: res.status, body: await res.json() }))
    ));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    const [{ count }] = await sql`
      select count(*)::int as count from public.webhook_events where provider = 'resend' and event_id = ${headers["svix-id"]}`;
    expect(count).toBe(1);
    expect(await suppressionOf(recipient)).toMatchObject({ source_event_id: headers["svix-id"] });
  });

  it("answers 500 when applying fails, records why, and applies it on redelivery", async () => {
    const job = await sentJob(address("effect"), randomUUID(), { fail_resend_effect: true });
    const id = svixId();
    const event = resendEvent("email.delivered", job.messageId);
    const first = await postResend(event, { id });
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe("effect_failed");
    expect(await eventRow(id)).toMatchObject({ status: "failed", error: expect.stringContaining("downstream trigger failed") });
    expect((await jobOf(job.id)).status).toBe("sent");

    await sql`update public.email_queue set data = '{}' where id = ${job.id}`;
    const retry = await postResend(event, { id });
    expect(retry.body).toMatchObject({ status: "processed", duplicate: false });
    expect(await eventRow(id)).toMatchObject({ status: "processed", attempts: 2, error: null });
    expect((await jobOf(job.id)).status).toBe("delivered");
  });
});

describe("signature verification", () => {
  const event = () => resendEvent("email.delivered", randomUUID());

  it("refuses a request without svix headers and records a security event", async () => {
    const ip = "2001:db8:5e5d::1";
    const res = await fetch(functionUrl("resend-webhook"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": ip },
      body: JSON.stringify(event()),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("missing_signature");
    expect(await securityKinds(ip)).toEqual(["signature_failure"]);
  });

  it("refuses a signature made with another secret and stores nothing", async () => {
    const ip = "2001:db8:5e5d::2";
    const id = svixId();
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const res = await postResend(event(), { id, secret, headers: { "x-forwarded-for": ip } });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: { code: "invalid_signature" }, requestId: expect.any(String) });
    expect(await eventRow(id)).toBeUndefined();
    expect(await securityKinds(ip)).toEqual(["signature_failure"]);
  });

  it("treats a valid signature from ten minutes ago as a replay", async () => {
    const ip = "2001:db8:5e5d::3";
    const res = await postResend(event(), { date: secondsAgo(600), headers: { "x-forwarded-for": ip } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("timestamp_outside_tolerance");
    expect(await securityKinds(ip)).toEqual(["replay"]);
  });
});

describe("request checks", () => {
  it("records an event whose subject holds a NUL, which jsonb cannot store as sent", async () => {
    const id = svixId();
    const event = resendEvent("email.delivered", randomUUID(), { data: { subject: "Re\u0000set" } });
    const res = await postResend(event, { id });
    expect(res.status).toBe(200);
    const [row] = await sql`
      select payload from public.webhook_events where provider = 'resend' and event_id = ${id}`;
    expect(row.payload.data.subject).toBe("Re\ufffdset");
  });

  it("answers malformed JSON with a valid signature with 400 invalid_json", async () => {
    const res = await postResend('{"type": "email.delivered", ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
  });

  it("answers a handled event without email_id with 400 naming the path", async () => {
    const body = resendEvent("email.delivered", "x");
    delete (body.data as { email_id?: string }).email_id;
    const res = await postResend(body);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ path: "data.email_id" }));
  });

  it("refuses the wrong method with 405", async () => {
    const res = await fetch(functionUrl("resend-webhook"));
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect((await res.json()).error.code).toBe("method_not_allowed");
  });

  it("refuses the wrong content type with 415", async () => {
    const res = await postResend(resendEvent("email.delivered", randomUUID()), { headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe("unsupported_media_type");
  });
});
