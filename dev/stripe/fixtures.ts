import { randomBytes } from "node:crypto";
import Stripe from "stripe";

/** What a sample event is about; everything has a realistic default. */
export interface FixtureOptions {
  orderId?: string;
  paymentIntentId?: string;
  checkoutSessionId?: string;
  subscriptionId?: string;
  customerId?: string;
  amount?: number;
  amountRefunded?: number;
  currency?: string;
  email?: string;
  /** Unix seconds; defaults to now. */
  created?: number;
  eventId?: string;
  disputeStatus?: string;
  subscriptionStatus?: string;
  userId?: string;
}

/** A Stripe-style id: prefix plus 24 random characters. */
export function stripeId(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x").slice(0, 24)}`;
}

type Builder = (o: Required<FixtureOptions>) => Record<string, unknown>;

const metadataOf = (o: Required<FixtureOptions>) => (o.orderId ? { order_id: o.orderId } : {});

const checkoutSession = (paymentStatus: string, status: string): Builder => (o) => ({
  id: o.checkoutSessionId,
  object: "checkout.session",
  amount_subtotal: o.amount,
  amount_total: o.amount,
  client_reference_id: null,
  collected_information: null,
  currency: o.currency,
  customer: o.customerId,
  customer_details: { email: o.email, name: "Ada Lovelace", address: null, phone: null, tax_exempt: "none" },
  customer_email: null,
  livemode: false,
  metadata: metadataOf(o),
  mode: "payment",
  payment_intent: o.paymentIntentId,
  payment_method_types: ["card"],
  payment_status: paymentStatus,
  status,
  success_url: "https://shop.example.com/success?session_id={CHECKOUT_SESSION_ID}",
  total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
  url: null,
});

const paymentIntent = (status: string, failure?: Record<string, unknown>): Builder => (o) => ({
  id: o.paymentIntentId,
  object: "payment_intent",
  amount: o.amount,
  amount_received: status === "succeeded" ? o.amount : 0,
  capture_method: "automatic_async",
  currency: o.currency,
  customer: o.customerId,
  description: "Order payment",
  last_payment_error: failure ?? null,
  latest_charge: status === "succeeded" ? stripeId("ch") : null,
  livemode: false,
  metadata: metadataOf(o),
  payment_method: stripeId("pm"),
  payment_method_types: ["card"],
  receipt_email: o.email,
  status,
});

const charge: Builder = (o) => ({
  id: stripeId("ch"),
  object: "charge",
  amount: o.amount,
  amount_captured: o.amount,
  amount_refunded: o.amountRefunded,
  captured: true,
  currency: o.currency,
  customer: o.customerId,
  livemode: false,
  metadata: metadataOf(o),
  paid: true,
  payment_intent: o.paymentIntentId,
  refunded: o.amountRefunded >= o.amount,
  status: "succeeded",
});

const dispute: Builder = (o) => ({
  id: stripeId("dp"),
  object: "dispute",
  amount: o.amount,
  charge: stripeId("ch"),
  currency: o.currency,
  livemode: false,
  metadata: {},
  payment_intent: o.paymentIntentId,
  reason: "fraudulent",
  status: o.disputeStatus,
});

const subscription: Builder = (o) => ({
  id: o.subscriptionId,
  object: "subscription",
  cancel_at_period_end: false,
  canceled_at: o.subscriptionStatus === "canceled" ? o.created : null,
  customer: o.customerId,
  items: {
    object: "list",
    data: [{
      id: stripeId("si"),
      object: "subscription_item",
      current_period_start: o.created,
      current_period_end: o.created + 30 * 24 * 3600,
      price: { id: "price_1PlanMonthly", object: "price", currency: o.currency, unit_amount: o.amount },
      quantity: 1,
    }],
  },
  livemode: false,
  metadata: o.userId ? { user_id: o.userId } : {},
  status: o.subscriptionStatus,
});

const invoice = (status: string): Builder => (o) => ({
  id: stripeId("in"),
  object: "invoice",
  amount_due: o.amount,
  amount_paid: status === "paid" ? o.amount : 0,
  currency: o.currency,
  customer: o.customerId,
  customer_email: o.email,
  livemode: false,
  parent: {
    type: "subscription_details",
    subscription_details: { metadata: {}, subscription: o.subscriptionId },
  },
  status,
});

const customer: Builder = (o) => ({
  id: o.customerId,
  object: "customer",
  email: o.email,
  name: "Ada Lovelace",
  livemode: false,
  metadata: o.userId ? { user_id: o.userId } : {},
});

const product: Builder = () => ({
  id: "prod_TriggerMug",
  object: "product",
  name: "Enamel mug",
  active: true,
  description: "A blue enamel mug, 350 ml.",
  livemode: false,
  metadata: {},
});

const price: Builder = (o) => ({
  id: "price_TriggerMugEur",
  object: "price",
  product: "prod_TriggerMug",
  active: true,
  currency: o.currency,
  unit_amount: o.amount,
  recurring: null,
  type: "one_time",
  livemode: false,
});

const refund: Builder = (o) => ({
  id: stripeId("re"),
  object: "refund",
  amount: o.amountRefunded,
  charge: stripeId("ch"),
  currency: o.currency,
  payment_intent: o.paymentIntentId,
  reason: "requested_by_customer",
  status: "succeeded",
});

const CARD_DECLINED = { code: "card_declined", decline_code: "insufficient_funds", message: "Your card has insufficient funds." };

/** Every event type the trigger can send, with a builder for its `data.object`. */
export const FIXTURES: Record<string, Builder> = {
  "checkout.session.completed": checkoutSession("paid", "complete"),
  "checkout.session.async_payment_succeeded": checkoutSession("paid", "complete"),
  "checkout.session.async_payment_failed": checkoutSession("unpaid", "complete"),
  "checkout.session.expired": checkoutSession("unpaid", "expired"),
  "payment_intent.succeeded": paymentIntent("succeeded"),
  "payment_intent.payment_failed": paymentIntent("requires_payment_method", CARD_DECLINED),
  "payment_intent.canceled": paymentIntent("canceled"),
  "charge.refunded": charge,
  "charge.dispute.created": dispute,
  "charge.dispute.closed": dispute,
  "customer.subscription.created": subscription,
  "customer.subscription.updated": subscription,
  "customer.subscription.deleted": subscription,
  "invoice.paid": invoice("paid"),
  "invoice.payment_failed": invoice("open"),
  "customer.created": customer,
  "customer.updated": customer,
  "customer.deleted": customer,
  "product.created": product,
  "product.updated": product,
  "product.deleted": product,
  "price.created": price,
  "price.updated": price,
  "invoice.created": invoice("draft"),
  "invoice.finalized": invoice("open"),
  "charge.succeeded": charge,
  "refund.created": refund,
  "payment_intent.created": paymentIntent("requires_payment_method"),
};

/** A complete snapshot event of `type`, shaped as Stripe sends it at the SDK's API version. */
export function stripeEvent(type: string, options: FixtureOptions = {}): Record<string, unknown> {
  const build = FIXTURES[type];
  if (!build) throw new Error(`No sample for ${type}. Known types: ${Object.keys(FIXTURES).join(", ")}`);
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const o: Required<FixtureOptions> = {
    orderId: "",
    paymentIntentId: stripeId("pi"),
    checkoutSessionId: stripeId("cs_test"),
    subscriptionId: stripeId("sub"),
    customerId: stripeId("cus"),
    amount: 4200,
    amountRefunded: options.amount ?? 4200,
    currency: "usd",
    email: "ada@example.com",
    eventId: stripeId("evt"),
    disputeStatus: type === "charge.dispute.closed" ? "won" : "needs_response",
    subscriptionStatus: type === "customer.subscription.deleted" ? "canceled" : "active",
    userId: "",
    ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)),
    created,
  };
  return {
    id: o.eventId,
    object: "event",
    api_version: Stripe.API_VERSION,
    created,
    data: { object: build(o) },
    livemode: false,
    pending_webhooks: 1,
    request: { id: stripeId("req"), idempotency_key: null },
    type,
  };
}

/** Signs `payload` as Stripe does, with the SDK's own test-header helper. */
export function signStripePayload(payload: string, secret: string, timestamp?: number): Promise<string> {
  return Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    timestamp: timestamp ?? Math.floor(Date.now() / 1000),
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });
}
