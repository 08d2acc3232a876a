import { z } from "zod";
import { validateOrReject } from "../_shared/http/validate.ts";
import {
  chargeSchema,
  checkoutSessionSchema,
  disputeSchema,
  invoiceSchema,
  paymentIntentSchema,
  type StripeEvent,
  subscriptionSchema,
} from "./event-schema.ts";
import { isUuid } from "../_shared/uuid.ts";

/**
 * The order statuses. Their definition, with their ranks, is `order_lifecycle()` in SQL;
 * tests/integration/order-lifecycle.test.ts fails when this list and it disagree.
 */
export const ORDER_STATUSES = [
  "pending",
  "paid",
  "payment_failed",
  "canceled",
  "refunded",
  "partially_refunded",
  "disputed",
  "fulfilled",
] as const;

/** An order status (see {@link ORDER_STATUSES}). */
export type OrderStatus = (typeof ORDER_STATUSES)[number];

const orderEffectSchema = z.strictObject({
  kind: z.literal("order"),
  link: z.strictObject({
    order_id: z.string().optional(),
    checkout_session_id: z.string().optional(),
    payment_intent_id: z.string().optional(),
  }),
  set: z.strictObject({
    stripe_checkout_session_id: z.string().optional(),
    stripe_payment_intent_id: z.string().optional(),
    stripe_customer_id: z.string().optional(),
    customer_email: z.string().optional(),
    customer_name: z.string().min(1).max(200).optional(),
    shipping_address: z.record(z.string(), z.string()).optional(),
    billing_address: z.record(z.string(), z.string()).optional(),
    amount_subtotal: z.number().int().min(0).optional(),
    amount_tax: z.number().int().min(0).optional(),
    amount_shipping: z.number().int().min(0).optional(),
    amount_discount: z.number().int().min(0).optional(),
    amount_refunded: z.number().int().min(0).optional(),
  }),
  status: z.enum(ORDER_STATUSES).optional(),
  dispute_status: z.string().optional(),
  resolves_dispute: z.boolean().optional(),
});

/** What an event does to an order; `apply_order_effect` in SQL carries it out. */
export type OrderEffect = z.infer<typeof orderEffectSchema>;

const subscriptionEffectSchema = z.strictObject({
  kind: z.literal("subscription"),
  rank: z.number().int().min(0),
  subscription: z.strictObject({
    stripe_subscription_id: z.string(),
    stripe_customer_id: z.string().optional(),
    user_id: z.string().optional(),
    status: z.string(),
    price_id: z.string().optional(),
    quantity: z.number().int().optional(),
    current_period_end: z.number().int().optional(),
    cancel_at_period_end: z.boolean(),
    canceled_at: z.number().int().optional(),
    metadata: z.record(z.string(), z.string()),
  }),
});

/** A subscription snapshot; `rank` breaks same-second ties (created < updated < deleted). */
export type SubscriptionEffect = z.infer<typeof subscriptionEffectSchema>;

const invoiceEffectSchema = z.strictObject({
  kind: z.literal("invoice"),
  subscription_id: z.string(),
  invoice_id: z.string(),
  invoice_status: z.enum(["paid", "payment_failed"]),
});

/** An invoice outcome recorded on its subscription. */
export type InvoiceEffect = z.infer<typeof invoiceEffectSchema>;

/**
 * The effect JSON `apply_stripe_event(p_effect)` reads, as planEffect builds it. Strict: a key
 * the builder adds without the schema knowing it fails here rather than being dropped on the way.
 */
export const effectSchema = z.discriminatedUnion("kind", [
  orderEffectSchema,
  subscriptionEffectSchema,
  invoiceEffectSchema,
  z.strictObject({ kind: z.literal("none") }),
]);

/** Everything an event can do; `none` means the type is stored as ignored. */
export type Effect = z.infer<typeof effectSchema>;

/** Event types with an effect; everything else is recorded as ignored. */
export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "checkout.session.async_payment_succeeded",
  "checkout.session.async_payment_failed",
  "checkout.session.expired",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "payment_intent.canceled",
  "charge.refunded",
  "charge.dispute.created",
  "charge.dispute.closed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.paid",
  "invoice.payment_failed",
] as const;

/** `metadata.order_id` when it is a UUID; anything else cannot name an order. */
function orderIdOf(metadata: Record<string, string> | null | undefined): string | undefined {
  const value = metadata?.order_id;
  return isUuid(value) ? value.toLowerCase() : undefined;
}

function parseObject<T extends z.ZodType>(schema: T, event: StripeEvent): z.infer<T> {
  return validateOrReject(schema, event.data.object, {
    prefix: ["data", "object"],
    message: `The ${event.type} object does not have the expected shape.`,
  });
}

const definedOnly = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as T;

// An address with something in it, else nothing: Stripe sends all-null addresses.
const someAddress = (address: Record<string, string> | null | undefined) =>
  address && Object.keys(address).length > 0 ? address : undefined;

function checkoutEffect(event: StripeEvent, status: (paymentStatus: string) => OrderStatus | undefined): OrderEffect {
  const session = parseObject(checkoutSessionSchema, event);
  const shipping = session.collected_information?.shipping_details ?? session.shipping_details;
  const shippingAddress = someAddress(shipping?.address);
  return {
    kind: "order",
    link: definedOnly({
      order_id: orderIdOf(session.metadata),
      checkout_session_id: session.id,
      payment_intent_id: session.payment_intent ?? undefined,
    }),
    set: definedOnly({
      stripe_checkout_session_id: session.id,
      stripe_payment_intent_id: session.payment_intent ?? undefined,
      stripe_customer_id: session.customer ?? undefined,
      customer_email: session.customer_details?.email ?? session.customer_email ?? undefined,
      customer_name: session.customer_details?.name || undefined,
      shipping_address: shippingAddress && { ...(shipping?.name ? { name: shipping.name } : {}), ...shippingAddress },
      billing_address: someAddress(session.customer_details?.address),
      amount_subtotal: session.amount_subtotal ?? undefined,
      amount_tax: session.total_details?.amount_tax ?? undefined,
      amount_shipping: session.total_details?.amount_shipping ?? undefined,
      amount_discount: session.total_details?.amount_discount ?? undefined,
    }),
    status: status(session.payment_status),
  };
}

function paymentIntentEffect(event: StripeEvent, status: OrderStatus): OrderEffect {
  const intent = parseObject(paymentIntentSchema, event);
  return {
    kind: "order",
    link: definedOnly({ order_id: orderIdOf(intent.metadata), payment_intent_id: intent.id }),
    set: definedOnly({
      stripe_payment_intent_id: intent.id,
      stripe_customer_id: intent.customer ?? undefined,
      customer_email: intent.receipt_email ?? undefined,
    }),
    status,
  };
}

function disputeEffect(event: StripeEvent): OrderEffect {
  const dispute = parseObject(disputeSchema, event);
  const closed = event.type === "charge.dispute.closed";
  const won = closed && (dispute.status === "won" || dispute.status === "warning_closed");
  return {
    kind: "order",
    link: definedOnly({
      order_id: orderIdOf(dispute.metadata),
      payment_intent_id: dispute.payment_intent ?? undefined,
    }),
    set: {},
    status: won ? "paid" : "disputed",
    dispute_status: dispute.status,
    resolves_dispute: won,
  };
}

function subscriptionEffect(event: StripeEvent, rank: number): SubscriptionEffect {
  const sub = parseObject(subscriptionSchema, event);
  const item = sub.items?.data[0];
  const metadata = sub.metadata ?? {};
  return {
    kind: "subscription",
    rank,
    subscription: definedOnly({
      stripe_subscription_id: sub.id,
      stripe_customer_id: sub.customer ?? undefined,
      user_id: isUuid(metadata.user_id) ? metadata.user_id : undefined,
      status: sub.status,
      price_id: item?.price?.id,
      quantity: item?.quantity ?? undefined,
      current_period_end: sub.current_period_end ?? item?.current_period_end ?? undefined,
      cancel_at_period_end: sub.cancel_at_period_end ?? false,
      canceled_at: sub.canceled_at ?? undefined,
      metadata,
    }),
  };
}

function invoiceEffect(event: StripeEvent, status: InvoiceEffect["invoice_status"]): Effect {
  const invoice = parseObject(invoiceSchema, event);
  const subscriptionId = invoice.subscription ?? invoice.parent?.subscription_details?.subscription;
  // A one-off invoice has no subscription to keep in step.
  if (!subscriptionId) return { kind: "none" };
  return { kind: "invoice", subscription_id: subscriptionId, invoice_id: invoice.id, invoice_status: status };
}

/**
 * Decides what a verified event does, without touching the database. Pure, so every mapping
 * is unit-tested; the database applies the plan atomically with the event's record.
 */
export function planEffect(event: StripeEvent): Effect {
  switch (event.type) {
    case "checkout.session.completed":
      // Delayed methods (bank debits) complete the session unpaid; async_payment_* settles it.
      return checkoutEffect(event, (paid) => (paid === "unpaid" ? undefined : "paid"));
    case "checkout.session.async_payment_succeeded":
      return checkoutEffect(event, () => "paid");
    case "checkout.session.async_payment_failed":
      return checkoutEffect(event, () => "payment_failed");
    case "checkout.session.expired":
      return checkoutEffect(event, () => "canceled");
    case "payment_intent.succeeded":
      return paymentIntentEffect(event, "paid");
    case "payment_intent.payment_failed":
      return paymentIntentEffect(event, "payment_failed");
    case "payment_intent.canceled":
      return paymentIntentEffect(event, "canceled");
    case "charge.refunded": {
      const charge = parseObject(chargeSchema, event);
      return {
        kind: "order",
        link: definedOnly({
          order_id: orderIdOf(charge.metadata),
          payment_intent_id: charge.payment_intent ?? undefined,
        }),
        set: { amount_refunded: charge.amount_refunded },
        status: charge.refunded || charge.amount_refunded >= charge.amount ? "refunded" : "partially_refunded",
      };
    }
    case "charge.dispute.created":
    case "charge.dispute.closed":
      return disputeEffect(event);
    case "customer.subscription.created":
      return subscriptionEffect(event, 0);
    case "customer.subscription.updated":
      return subscriptionEffect(event, 1);
    case "customer.subscription.deleted":
      return subscriptionEffect(event, 2);
    case "invoice.paid":
      return invoiceEffect(event, "paid");
    case "invoice.payment_failed":
      return invoiceEffect(event, "payment_failed");
    default:
      return { kind: "none" };
  }
}
