import { describe, expect, it } from "vitest";
import { stripeEvent, stripeId } from "../../dev/stripe/fixtures.ts";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import type { StripeEvent } from "../../supabase/functions/stripe-webhook/event-schema.ts";
import {
  type Effect,
  HANDLED_EVENT_TYPES,
  type InvoiceEffect,
  type OrderEffect,
  planEffect,
  type SubscriptionEffect,
} from "../../supabase/functions/stripe-webhook/plan-effect.ts";

const ORDER_ID = "0b6f3c2e-8d1a-4f5b-9c7e-2a4d6e8f0a1b";
const USER_ID = "5e1c9a7b-3d2f-4e6a-8b0c-1d2e3f4a5b6c";

type Fixture = Parameters<typeof stripeEvent>[1];
const event = (type: string, options?: Fixture) => stripeEvent(type, options) as unknown as StripeEvent;
const objectOf = (e: StripeEvent) => e.data.object as Record<string, unknown>;

function plan<K extends Effect["kind"]>(e: StripeEvent, kind: K): Extract<Effect, { kind: K }> {
  const effect = planEffect(e);
  expect(effect.kind).toBe(kind);
  return effect as Extract<Effect, { kind: K }>;
}

describe("planEffect: every handled type has an effect", () => {
  it.each(HANDLED_EVENT_TYPES.filter((t) => !t.startsWith("invoice.")))("%s plans a non-empty effect", (type) => {
    expect(planEffect(event(type, { orderId: ORDER_ID })).kind).not.toBe("none");
  });

  it.each(["invoice.paid", "invoice.payment_failed"] as const)("%s plans an invoice effect", (type) => {
    expect(planEffect(event(type)).kind).toBe("invoice");
  });
});

describe("planEffect: checkout sessions", () => {
  it.each([
    ["checkout.session.completed", "paid"],
    ["checkout.session.async_payment_succeeded", "paid"],
    ["checkout.session.async_payment_failed", "payment_failed"],
    ["checkout.session.expired", "canceled"],
  ] as const)("%s → order status %s, linked by order id, session and payment intent", (type, status) => {
    const paymentIntentId = stripeId("pi");
    const checkoutSessionId = stripeId("cs_test");
    const customerId = stripeId("cus");
    const effect = plan(
      event(type, { orderId: ORDER_ID, paymentIntentId, checkoutSessionId, customerId, email: "ada@example.com", amount: 4200 }),
      "order",
    );
    expect(effect).toEqual<OrderEffect>({
      kind: "order",
      link: { order_id: ORDER_ID, checkout_session_id: checkoutSessionId, payment_intent_id: paymentIntentId },
      set: {
        stripe_checkout_session_id: checkoutSessionId,
        stripe_payment_intent_id: paymentIntentId,
        stripe_customer_id: customerId,
        customer_email: "ada@example.com",
        customer_name: "Ada Lovelace",
        amount_subtotal: 4200,
        amount_tax: 0,
        amount_shipping: 0,
        amount_discount: 0,
      },
      status,
    });
  });

  it("stores what the session knows of the customer: name, shipping and billing address, and the parts of the total", () => {
    const e = event("checkout.session.completed", { orderId: ORDER_ID, amount: 8900 });
    const address = { line1: "1 Main St", line2: null, city: "Springfield", state: "IL", postal_code: "62701", country: "US" };
    Object.assign(objectOf(e), {
      amount_subtotal: 8000,
      total_details: { amount_discount: 500, amount_shipping: 900, amount_tax: 500 },
      customer_details: { email: "ada@example.com", name: "Ada Lovelace", address },
      collected_information: { shipping_details: { name: "Ada L.", address: { ...address, line1: "2 Side St" } } },
    });
    const { line2: _, ...stored } = address;
    expect(plan(e, "order").set).toMatchObject({
      customer_name: "Ada Lovelace",
      billing_address: stored,
      shipping_address: { name: "Ada L.", ...stored, line1: "2 Side St" },
      amount_subtotal: 8000,
      amount_discount: 500,
      amount_shipping: 900,
      amount_tax: 500,
    });
  });

  it("reads shipping_details where older API versions put it, and no address that is all nulls", () => {
    const e = event("checkout.session.completed", { orderId: ORDER_ID });
    const empty = { line1: null, line2: null, city: null, state: null, postal_code: null, country: null };
    Object.assign(objectOf(e), {
      shipping_details: { name: "Grace", address: { ...empty, line1: "3 Old Rd", country: "GB" } },
      customer_details: { email: "g@example.com", name: null, address: empty },
    });
    const { set } = plan(e, "order");
    expect(set.shipping_address).toEqual({ name: "Grace", line1: "3 Old Rd", country: "GB" });
    expect(set.billing_address).toBeUndefined();
    expect(set.customer_name).toBeUndefined();
  });

  it("completed but unpaid (a delayed payment method) links the order without changing its status", () => {
    const e = event("checkout.session.completed", { orderId: ORDER_ID });
    objectOf(e).payment_status = "unpaid";
    const effect = plan(e, "order");
    expect(effect.status).toBeUndefined();
    expect(effect.link.order_id).toBe(ORDER_ID);
  });

  it("completed with no_payment_required counts as paid", () => {
    const e = event("checkout.session.completed");
    objectOf(e).payment_status = "no_payment_required";
    expect(plan(e, "order").status).toBe("paid");
  });

  it("reads ids from expanded objects", () => {
    const e = event("checkout.session.completed");
    const o = objectOf(e);
    const pi = o.payment_intent as string;
    const cus = o.customer as string;
    o.payment_intent = { id: pi, object: "payment_intent" };
    o.customer = { id: cus, object: "customer" };
    const effect = plan(e, "order");
    expect(effect.link.payment_intent_id).toBe(pi);
    expect(effect.set.stripe_customer_id).toBe(cus);
  });

  it("falls back to customer_email when customer_details has none", () => {
    const e = event("checkout.session.completed");
    Object.assign(objectOf(e), { customer_details: null, customer_email: "grace@example.com" });
    expect(plan(e, "order").set.customer_email).toBe("grace@example.com");
  });

  it("omits absent fields rather than setting them to null", () => {
    const e = event("checkout.session.expired");
    Object.assign(objectOf(e), { payment_intent: null, customer: null, customer_details: null, amount_subtotal: null, total_details: null });
    const effect = plan(e, "order");
    expect(effect.link).toEqual({ checkout_session_id: objectOf(e).id });
    expect(effect.set).toEqual({ stripe_checkout_session_id: objectOf(e).id });
  });
});

describe("planEffect: payment intents", () => {
  it.each([
    ["payment_intent.succeeded", "paid"],
    ["payment_intent.payment_failed", "payment_failed"],
    ["payment_intent.canceled", "canceled"],
  ] as const)("%s → order status %s, linked by order id and payment intent", (type, status) => {
    const paymentIntentId = stripeId("pi");
    const customerId = stripeId("cus");
    const effect = plan(event(type, { orderId: ORDER_ID, paymentIntentId, customerId }), "order");
    expect(effect).toEqual<OrderEffect>({
      kind: "order",
      link: { order_id: ORDER_ID, payment_intent_id: paymentIntentId },
      set: { stripe_payment_intent_id: paymentIntentId, stripe_customer_id: customerId, customer_email: "ada@example.com" },
      status,
    });
  });
});

describe("planEffect: metadata.order_id", () => {
  it.each([
    ["a shop's own order number", "1001"],
    ["SQL text", "' or 1=1 --"],
    ["a UUID with extra characters", `${ORDER_ID}x`],
  ])("is not used as a link when it is %s", (_label, orderId) => {
    const effect = plan(event("payment_intent.succeeded", { orderId }), "order");
    expect(effect.link).not.toHaveProperty("order_id");
    expect(effect.link.payment_intent_id).toMatch(/^pi_/);
  });

  it("is normalised to lower case", () => {
    const effect = plan(event("payment_intent.succeeded", { orderId: ORDER_ID.toUpperCase() }), "order");
    expect(effect.link.order_id).toBe(ORDER_ID);
  });
});

describe("planEffect: refunds", () => {
  it("a full refund → refunded, with the refunded amount", () => {
    const effect = plan(event("charge.refunded", { orderId: ORDER_ID, amount: 4200, amountRefunded: 4200 }), "order");
    expect(effect.status).toBe("refunded");
    expect(effect.set).toEqual({ amount_refunded: 4200 });
    expect(effect.link.order_id).toBe(ORDER_ID);
  });

  it("a partial refund → partially_refunded, with the refunded amount", () => {
    const e = event("charge.refunded", { amount: 4200, amountRefunded: 1000 });
    expect(objectOf(e).refunded).toBe(false);
    const effect = plan(e, "order");
    expect(effect.status).toBe("partially_refunded");
    expect(effect.set.amount_refunded).toBe(1000);
  });

  it("trusts refunded: true even when the amounts disagree", () => {
    const e = event("charge.refunded", { amount: 4200, amountRefunded: 1000 });
    objectOf(e).refunded = true;
    expect(plan(e, "order").status).toBe("refunded");
  });
});

describe("planEffect: disputes", () => {
  it("a new dispute → disputed, not resolving anything", () => {
    const paymentIntentId = stripeId("pi");
    const effect = plan(event("charge.dispute.created", { paymentIntentId }), "order");
    expect(effect).toMatchObject({
      status: "disputed",
      dispute_status: "needs_response",
      resolves_dispute: false,
      link: { payment_intent_id: paymentIntentId },
    });
  });

  it.each(["won", "warning_closed"])("closed as %s → paid again, resolving the dispute", (disputeStatus) => {
    const effect = plan(event("charge.dispute.closed", { disputeStatus }), "order");
    expect(effect).toMatchObject({ status: "paid", resolves_dispute: true, dispute_status: disputeStatus });
  });

  it("closed as lost → stays disputed with dispute_status lost", () => {
    const effect = plan(event("charge.dispute.closed", { disputeStatus: "lost" }), "order");
    expect(effect).toMatchObject({ status: "disputed", resolves_dispute: false, dispute_status: "lost" });
  });

  it("a dispute update saying won before it is closed does not resolve it", () => {
    const effect = plan(event("charge.dispute.created", { disputeStatus: "won" }), "order");
    expect(effect.resolves_dispute).toBe(false);
    expect(effect.status).toBe("disputed");
  });
});

describe("planEffect: subscriptions", () => {
  it.each([
    ["customer.subscription.created", 0, "active"],
    ["customer.subscription.updated", 1, "active"],
    ["customer.subscription.deleted", 2, "canceled"],
  ] as const)("%s → snapshot with rank %i and status %s", (type, rank, status) => {
    const subscriptionId = stripeId("sub");
    const customerId = stripeId("cus");
    const created = 1_750_000_000;
    const effect = plan(event(type, { subscriptionId, customerId, created, userId: USER_ID }), "subscription");
    expect(effect.rank).toBe(rank);
    expect(effect.subscription).toMatchObject({
      stripe_subscription_id: subscriptionId,
      stripe_customer_id: customerId,
      user_id: USER_ID,
      status,
      price_id: "price_1PlanMonthly",
      quantity: 1,
      cancel_at_period_end: false,
      metadata: { user_id: USER_ID },
    });
    if (type === "customer.subscription.deleted") expect(effect.subscription.canceled_at).toBe(created);
    else expect(effect.subscription).not.toHaveProperty("canceled_at");
  });

  it("reads current_period_end from the first item when absent at top level (API 2025-03-31+)", () => {
    const created = 1_750_000_000;
    const e = event("customer.subscription.updated", { created });
    expect(objectOf(e)).not.toHaveProperty("current_period_end");
    const effect = plan(e, "subscription") as SubscriptionEffect;
    expect(effect.subscription.current_period_end).toBe(created + 30 * 24 * 3600);
  });

  it("prefers a top-level current_period_end (older API versions)", () => {
    const e = event("customer.subscription.updated");
    objectOf(e).current_period_end = 1_800_000_000;
    expect(plan(e, "subscription").subscription.current_period_end).toBe(1_800_000_000);
  });

  it("ignores a user_id in metadata that is not a UUID", () => {
    const e = event("customer.subscription.created", { userId: "admin" });
    const effect = plan(e, "subscription");
    expect(effect.subscription).not.toHaveProperty("user_id");
    expect(effect.subscription.metadata).toEqual({ user_id: "admin" });
  });
});

describe("planEffect: invoices", () => {
  it.each([
    ["invoice.paid", "paid"],
    ["invoice.payment_failed", "payment_failed"],
  ] as const)("%s reads the subscription from parent.subscription_details (API 2025+)", (type, status) => {
    const subscriptionId = stripeId("sub");
    const e = event(type, { subscriptionId });
    expect(objectOf(e)).not.toHaveProperty("subscription");
    expect(plan(e, "invoice")).toEqual<InvoiceEffect>({
      kind: "invoice",
      subscription_id: subscriptionId,
      invoice_id: objectOf(e).id as string,
      invoice_status: status,
    });
  });

  it("reads the legacy top-level subscription field", () => {
    const subscriptionId = stripeId("sub");
    const e = event("invoice.paid");
    Object.assign(objectOf(e), { parent: null, subscription: subscriptionId });
    expect(plan(e, "invoice").subscription_id).toBe(subscriptionId);
  });

  it("reads an expanded legacy subscription object", () => {
    const subscriptionId = stripeId("sub");
    const e = event("invoice.paid");
    Object.assign(objectOf(e), { parent: null, subscription: { id: subscriptionId, object: "subscription" } });
    expect(plan(e, "invoice").subscription_id).toBe(subscriptionId);
  });

  it("a one-off invoice without a subscription → none", () => {
    const e = event("invoice.paid");
    Object.assign(objectOf(e), { parent: { type: "quote_details", quote_details: {} } });
    expect(planEffect(e)).toEqual({ kind: "none" });
  });
});

describe("planEffect: unhandled and malformed events", () => {
  it.each(["customer.created"])("an unhandled type (%s) → none", (type) => {
    expect(planEffect(event(type))).toEqual({ kind: "none" });
  });

  it("an unknown type → none even if its object is arbitrary", () => {
    const e = { ...event("payment_intent.succeeded"), type: "issuing_card.created" };
    e.data = { object: { anything: 1 } };
    expect(planEffect(e)).toEqual({ kind: "none" });
  });

  function caught(fn: () => unknown): HttpError {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(HttpError);
      return error as HttpError;
    }
    throw new Error("expected planEffect to throw");
  }

  it("a refund whose amount_refunded is a string throws 400 with a data.object path", () => {
    const e = event("charge.refunded");
    objectOf(e).amount_refunded = "4200";
    const error = caught(() => planEffect(e));
    expect(error.status).toBe(400);
    expect(error.code).toBe("invalid_request");
    expect(error.security).toBe("malformed_payload");
    expect(error.details).toEqual([{ path: "data.object.amount_refunded", message: expect.any(String) }]);
  });

  it("a nested malformed field is reported by its full path", () => {
    const e = event("customer.subscription.updated");
    const items = objectOf(e).items as { data: { quantity: unknown }[] };
    items.data[0].quantity = "one";
    const error = caught(() => planEffect(e));
    const paths = (error.details as { path: string }[]).map((d) => d.path);
    expect(paths).toEqual(["data.object.items.data.0.quantity"]);
  });

  it("an object id with the wrong prefix is refused", () => {
    const e = event("payment_intent.succeeded");
    objectOf(e).id = "ch_notAnIntent";
    const error = caught(() => planEffect(e));
    expect((error.details as { path: string }[])[0].path).toBe("data.object.id");
  });
});
