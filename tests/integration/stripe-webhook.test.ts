import { beforeAll, describe, expect, it } from "vitest";
import { signStripePayload, stripeEvent, stripeId } from "../../dev/stripe/fixtures.ts";
import { createOrder, functionUrl, postStripe, previousStripeSecret, stripeSecret, testSql } from "../helpers/stack.ts";

const sql = testSql();
const now = () => Math.floor(Date.now() / 1000);

async function orderOf(id: string) {
  const [row] = await sql`select * from public.orders where id = ${id}`;
  return row;
}

async function eventRow(eventId: string) {
  const [row] = await sql`select * from public.webhook_events where provider = 'stripe' and event_id = ${eventId}`;
  return row;
}

async function securityEvents(source: string) {
  return await sql`select kind, details from public.security_events where source = ${source} order by id`;
}

beforeAll(async () => {
  // Observes effects: one row per status change of an order, so a second application of the
  // same event would show as a second row. The failing trigger stands in for any effect that
  // raises (a constraint, a downstream trigger) until an operator fixes the cause.
  await sql.unsafe(`
    create schema if not exists test_stripe_support;
    create table if not exists test_stripe_support.order_status_changes (order_id uuid, status text, at timestamptz default clock_timestamp());
    create or replace function test_stripe_support.record_status_change() returns trigger language plpgsql set search_path = '' as $$
    begin
      if new.metadata ? 'fail_effect' then raise exception 'downstream trigger failed'; end if;
      if old.status is distinct from new.status then
        insert into test_stripe_support.order_status_changes (order_id, status) values (new.id, new.status);
      end if;
      return new;
    end $$;
    drop trigger if exists test_record_status_change on public.orders;
    create trigger test_record_status_change before update on public.orders
      for each row execute function test_stripe_support.record_status_change();
  `);
});

async function statusChanges(orderId: string) {
  return (await sql`select status from test_stripe_support.order_status_changes where order_id = ${orderId} order by at`)
    .map((row) => row.status as string);
}

describe("signature verification", () => {
  it("accepts a correctly signed event and applies it", async () => {
    const orderId = await createOrder(sql);
    const event = stripeEvent("payment_intent.succeeded", { orderId });
    const res = await postStripe(event);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ received: true, id: event.id, status: "processed", duplicate: false });
    expect((await orderOf(orderId)).status).toBe("paid");
    expect((await eventRow(event.id as string)).status).toBe("processed");
  });

  it("refuses a wrong signature with 401, records a security event and stores nothing", async () => {
    const ip = "198.51.100.10";
    const event = stripeEvent("payment_intent.succeeded");
    const res = await postStripe(event, { secret: "whsec_not_the_right_one", headers: { "x-forwarded-for": ip } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("invalid_signature");
    expect(await eventRow(event.id as string)).toBeUndefined();
    const [logged] = await securityEvents(ip);
    expect(logged.kind).toBe("signature_failure");
    expect(JSON.stringify(logged.details)).not.toContain("v1=");
  });

  it("treats a valid signature with an old timestamp as a replay", async () => {
    const ip = "198.51.100.11";
    const event = stripeEvent("payment_intent.succeeded");
    const res = await postStripe(event, { timestamp: now() - 301, headers: { "x-forwarded-for": ip } });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("timestamp_outside_tolerance");
    expect((await securityEvents(ip)).map((row) => row.kind)).toEqual(["replay"]);
  });

  it("refuses a missing Stripe-Signature header", async () => {
    const res = await fetch(functionUrl("stripe-webhook"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(stripeEvent("payment_intent.succeeded")),
    });
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("missing_signature");
  });

  it("accepts the previous secret while a rotation is under way", async () => {
    const orderId = await createOrder(sql);
    const res = await postStripe(stripeEvent("payment_intent.succeeded", { orderId }), { secret: previousStripeSecret });
    expect(res.status).toBe(200);
    expect((await orderOf(orderId)).status).toBe("paid");
  });

  it("answers a thin event with a clear 400 instead of crashing", async () => {
    const thin = { id: stripeId("evt"), object: "v2.core.event", type: "v1.billing.meter.no_meter_found", created: new Date().toISOString() };
    const res = await postStripe(thin);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("thin_event_unsupported");
  });
});

describe("request checks", () => {
  it("records and applies an event whose metadata holds a NUL, which jsonb cannot store as sent", async () => {
    const orderId = await createOrder(sql);
    const event = stripeEvent("payment_intent.succeeded", { orderId });
    (event.data.object as { metadata: Record<string, string> }).metadata.note = "gift\u0000wrap";
    const res = await postStripe(event);
    expect(res.status).toBe(200);
    expect((await orderOf(orderId)).status).toBe("paid");
    expect((await eventRow(event.id as string)).payload.data.object.metadata.note).toBe("gift\ufffdwrap");
  });

  it("answers malformed JSON with a valid signature with 400 invalid_json", async () => {
    const res = await postStripe('{"id": "evt_1", "object": ');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_json");
  });

  it("answers a schema violation with 400 and the failing paths", async () => {
    const event = stripeEvent("payment_intent.succeeded");
    delete (event as Record<string, unknown>).created;
    const res = await postStripe(event);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ path: "created" }));
  });

  it("answers a known type whose object is malformed with 400 naming the field", async () => {
    const event = stripeEvent("charge.refunded") as { data: { object: Record<string, unknown> } };
    event.data.object.amount_refunded = "lots";
    const res = await postStripe(event);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toContainEqual(expect.objectContaining({ path: "data.object.amount_refunded" }));
  });

  it("refuses the wrong content type with 415", async () => {
    const res = await postStripe(stripeEvent("payment_intent.succeeded"), { headers: { "content-type": "text/plain" } });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ error: { code: "unsupported_media_type" }, requestId: expect.any(String) });
  });

  it("refuses a body over 1 MiB with 413 before verifying it", async () => {
    const ip = "198.51.100.12";
    const event = stripeEvent("payment_intent.succeeded");
    (event as Record<string, unknown>).padding = "x".repeat(1024 * 1024);
    const res = await postStripe(event, { headers: { "x-forwarded-for": ip } });
    expect(res.status).toBe(413);
    expect((await securityEvents(ip)).map((row) => row.kind)).toEqual(["payload_too_large"]);
  });

  it("refuses the wrong method with 405 and an Allow header", async () => {
    const res = await fetch(functionUrl("stripe-webhook"), { headers: { "x-request-id": "req-405-check" } });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expect(res.headers.get("x-request-id")).toBe("req-405-check");
    expect(await res.json()).toMatchObject({ error: { code: "method_not_allowed" }, requestId: "req-405-check" });
  });

  it("raises one security_alert when a source bursts past the threshold", async () => {
    const ip = "198.51.100.13";
    for (let i = 0; i < 22; i++) {
      await postStripe(stripeEvent("payment_intent.succeeded"), { secret: "whsec_wrong", headers: { "x-forwarded-for": ip } });
    }
    const kinds = (await securityEvents(ip)).map((row) => row.kind);
    expect(kinds.filter((kind) => kind === "signature_failure")).toHaveLength(22);
    expect(kinds.filter((kind) => kind === "security_alert")).toHaveLength(1);
  });
});

describe("exactly once", () => {
  it("answers a sequential duplicate with duplicate: true and no second effect", async () => {
    const orderId = await createOrder(sql);
    const event = stripeEvent("payment_intent.succeeded", { orderId });
    const first = await postStripe(event);
    const second = await postStripe(event);
    expect(first.body.duplicate).toBe(false);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ duplicate: true, status: "processed" });
    expect(await statusChanges(orderId)).toEqual(["paid"]);
  });

  it("applies 25 concurrent copies of one event exactly once", async () => {
    const orderId = await createOrder(sql);
    const event = stripeEvent("charge.refunded", { orderId, amount: 5000, amountRefunded: 2000 });
    await sql`update public.orders set stripe_payment_intent_id = ${(event as any).data.object.payment_intent}, status = 'paid' where id = ${orderId}`;
    const payload = JSON.stringify(event);
    const signature = await signStripePayload(payload, stripeSecret);
    const responses = await Promise.all(Array.from({ length: 25 }, () =>
      fetch(functionUrl("stripe-webhook"), {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": signature },
        body: payload,
      }).then(async (res) => ({ status: res.status, body: await res.json() }))
    ));
    expect(responses.map((r) => r.status)).toEqual(Array(25).fill(200));
    expect(responses.filter((r) => r.body.duplicate === false)).toHaveLength(1);
    expect(await statusChanges(orderId)).toEqual(["paid", "partially_refunded"]);
    const [{ count }] = await sql`select count(*)::int as count from public.webhook_events where event_id = ${event.id as string}`;
    expect(count).toBe(1);
  });
});

describe("order of arrival", () => {
  it("keeps a refund that arrived before the payment it refunds", async () => {
    const orderId = await createOrder(sql, 3000);
    const pi = stripeId("pi");
    const t = now() - 100;
    await postStripe(stripeEvent("charge.refunded", { orderId, paymentIntentId: pi, amount: 3000, created: t + 10 }));
    await postStripe(stripeEvent("payment_intent.succeeded", { orderId, paymentIntentId: pi, created: t }));
    const order = await orderOf(orderId);
    expect(order.status).toBe("refunded");
    expect(Number(order.amount_refunded)).toBe(3000);
    expect(order.stripe_payment_intent_id).toBe(pi);
  });

  it("never moves a paid order back to payment_failed, whatever arrives later", async () => {
    const orderId = await createOrder(sql);
    const t = now() - 100;
    await postStripe(stripeEvent("payment_intent.succeeded", { orderId, created: t }));
    const late = await postStripe(stripeEvent("payment_intent.payment_failed", { orderId, created: t + 5 }));
    expect(late.body.outcome).toBe("order_status_kept:paid");
    expect((await orderOf(orderId)).status).toBe("paid");
  });

  it("resolves same-second events the same way in either order of arrival", async () => {
    const t = now() - 100;
    const finals: string[] = [];
    for (const order of [["succeeded", "failed"], ["failed", "succeeded"]]) {
      const orderId = await createOrder(sql);
      const events = {
        succeeded: stripeEvent("payment_intent.succeeded", { orderId, created: t }),
        failed: stripeEvent("payment_intent.payment_failed", { orderId, created: t }),
      };
      for (const name of order) await postStripe(events[name as keyof typeof events]);
      finals.push((await orderOf(orderId)).status);
    }
    expect(finals).toEqual(["paid", "paid"]);
  });

  it("does not reopen a dispute when its creation arrives after its close", async () => {
    const orderId = await createOrder(sql);
    const pi = stripeId("pi");
    const t = now() - 100;
    await postStripe(stripeEvent("payment_intent.succeeded", { orderId, paymentIntentId: pi, created: t }));
    await postStripe(stripeEvent("charge.dispute.closed", { paymentIntentId: pi, created: t + 20, disputeStatus: "won" }));
    await postStripe(stripeEvent("charge.dispute.created", { paymentIntentId: pi, created: t + 10 }));
    const order = await orderOf(orderId);
    expect(order.status).toBe("paid");
    expect(order.dispute_status).toBe("won");
  });

  it("links a checkout session, then finds the order by its payment intent", async () => {
    const orderId = await createOrder(sql, 2500);
    const pi = stripeId("pi");
    const t = now() - 100;
    const completed = await postStripe(stripeEvent("checkout.session.completed", { orderId, paymentIntentId: pi, created: t, email: "new@example.com" }));
    expect(completed.body.outcome).toBe("order_status:paid");
    const refund = await postStripe(stripeEvent("charge.refunded", { paymentIntentId: pi, amount: 2500, amountRefunded: 500, created: t + 1 }));
    expect(refund.body.outcome).toBe("order_status:partially_refunded");
    const order = await orderOf(orderId);
    expect(order.stripe_checkout_session_id).toMatch(/^cs_test_/);
    expect(order.customer_email).toBe("buyer@example.com");
  });

  it("leaves an order pending when a delayed-payment session completes unpaid", async () => {
    const orderId = await createOrder(sql);
    const event = stripeEvent("checkout.session.completed", { orderId });
    (event as any).data.object.payment_status = "unpaid";
    const res = await postStripe(event);
    expect(res.body.outcome).toBe("order_linked");
    expect((await orderOf(orderId)).status).toBe("pending");
  });
});

describe("what is stored", () => {
  it("stores an unhandled type as ignored and answers 200", async () => {
    // A coupon is neither an order's business nor a mirrored object.
    const event = { ...stripeEvent("customer.created"), type: "coupon.created", data: { object: { id: "co_x", object: "coupon" } } };
    const res = await postStripe(event);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ignored");
    expect((await eventRow(event.id as string)).payload).toEqual(event);
  });

  it("stores and flags an event for an unknown order", async () => {
    const event = stripeEvent("payment_intent.succeeded", { orderId: "0d6f2f3e-5b7a-4f4e-9a51-000000000000" });
    const res = await postStripe(event);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "unmatched", outcome: "unmatched_order" });
    expect((await eventRow(event.id as string)).payload.data.object.id).toBe((event as any).data.object.id);
  });

  it("answers 500 when the effect fails, records why, and applies it on redelivery", async () => {
    const [{ id: orderId }] = await sql`
      insert into public.orders (amount_total, currency, metadata) values (1000, 'usd', '{"fail_effect": true}') returning id`;
    const event = stripeEvent("payment_intent.succeeded", { orderId });
    const first = await postStripe(event);
    expect(first.status).toBe(500);
    expect(first.body.error.code).toBe("effect_failed");
    const failed = await eventRow(event.id as string);
    expect(failed.status).toBe("failed");
    expect(failed.error).toContain("downstream trigger failed");
    expect((await orderOf(orderId)).status).toBe("pending");

    await sql`update public.orders set metadata = '{}' where id = ${orderId}`;
    const retry = await postStripe(event);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ status: "processed", duplicate: false });
    const row = await eventRow(event.id as string);
    expect(row).toMatchObject({ status: "processed", attempts: 2, error: null });
    expect((await orderOf(orderId)).status).toBe("paid");
  });
});

describe("subscriptions", () => {
  it("keeps the subscriptions table in step, whatever the order of arrival", async () => {
    const sub = stripeId("sub");
    const userId = "7f1b7c2e-2d64-4c1e-8f6a-3b1f0a9d5e11";
    const t = now() - 1000;
    await postStripe(stripeEvent("customer.subscription.updated", { subscriptionId: sub, created: t + 10, subscriptionStatus: "past_due", userId }));
    await postStripe(stripeEvent("customer.subscription.created", { subscriptionId: sub, created: t, subscriptionStatus: "incomplete", userId }));
    let [row] = await sql`select * from public.subscriptions where stripe_subscription_id = ${sub}`;
    expect(row).toMatchObject({ status: "past_due", user_id: userId, price_id: "price_1PlanMonthly", quantity: 1 });
    expect(row.current_period_end).toBeInstanceOf(Date);

    const paid = await postStripe(stripeEvent("invoice.paid", { subscriptionId: sub, created: t + 20 }));
    expect(paid.body.outcome).toBe("invoice:paid");
    await postStripe(stripeEvent("customer.subscription.deleted", { subscriptionId: sub, created: t + 30 }));
    [row] = await sql`select * from public.subscriptions where stripe_subscription_id = ${sub}`;
    expect(row).toMatchObject({ status: "canceled", latest_invoice_status: "paid" });
  });

  it("flags an invoice for a subscription it has never seen", async () => {
    const res = await postStripe(stripeEvent("invoice.payment_failed", { subscriptionId: stripeId("sub") }));
    expect(res.body).toMatchObject({ status: "unmatched", outcome: "unmatched_subscription" });
  });
});
