import { z } from "zod";

/** The envelope every Stripe snapshot event has; the object inside is checked per type. */
export const stripeEventSchema = z.object({
  id: z.string().regex(/^evt_[A-Za-z0-9_]+$/, "must be a Stripe event id (evt_...)").max(255),
  object: z.literal("event"),
  type: z.string().min(1).max(255),
  created: z.number().int().positive(),
  livemode: z.boolean(),
  api_version: z.string().max(64).nullish(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

/** A verified, envelope-valid Stripe event. */
export type StripeEvent = z.infer<typeof stripeEventSchema>;

const id = (prefix: string) => z.string().startsWith(prefix).max(255);
const expandable = (prefix: string) =>
  z.union([id(prefix), z.object({ id: id(prefix) }).transform((object) => object.id)]).nullish();
const metadata = z.record(z.string(), z.string()).nullish();

const text = (max: number) => z.string().max(max).nullish();
/** An address as Stripe writes one; null parts dropped. */
const address = z.object({
  line1: text(500),
  line2: text(500),
  city: text(200),
  state: text(200),
  postal_code: text(50),
  country: text(2),
}).transform((parts) =>
  Object.fromEntries(Object.entries(parts).filter(([, v]) => v != null)) as Record<string, string>
);
const amount = z.number().int().min(0).nullish();
const shippingDetails = z.object({ name: text(200), address: address.nullish() }).nullish();

/** The fields of a Checkout Session the suite reads. */
export const checkoutSessionSchema = z.object({
  id: id("cs_"),
  metadata,
  payment_intent: expandable("pi_"),
  customer: expandable("cus_"),
  customer_email: z.string().nullish(),
  customer_details: z.object({ email: z.string().nullish(), name: text(200), address: address.nullish() }).nullish(),
  // Where API versions from 2025 put the shipping details; older ones have shipping_details.
  collected_information: z.object({ shipping_details: shippingDetails }).nullish(),
  shipping_details: shippingDetails,
  amount_subtotal: amount,
  total_details: z.object({ amount_discount: amount, amount_shipping: amount, amount_tax: amount }).nullish(),
  payment_status: z.enum(["paid", "unpaid", "no_payment_required"]),
});

/** The fields of a PaymentIntent the suite reads. */
export const paymentIntentSchema = z.object({
  id: id("pi_"),
  metadata,
  customer: expandable("cus_"),
  receipt_email: z.string().nullish(),
});

/** The fields of a Charge the suite reads. */
export const chargeSchema = z.object({
  id: id("ch_"),
  metadata,
  payment_intent: expandable("pi_"),
  amount: z.number().int().nonnegative(),
  amount_refunded: z.number().int().nonnegative(),
  refunded: z.boolean(),
});

/** The fields of a Dispute the suite reads. */
export const disputeSchema = z.object({
  id: id("dp_"),
  metadata,
  payment_intent: expandable("pi_"),
  status: z.string().max(64),
});

/** The fields of a Subscription the suite reads (period end moved to items in 2025-03-31). */
export const subscriptionSchema = z.object({
  id: id("sub_"),
  customer: expandable("cus_"),
  status: z.string().max(64),
  metadata,
  cancel_at_period_end: z.boolean().nullish(),
  canceled_at: z.number().int().nullish(),
  current_period_end: z.number().int().nullish(),
  items: z.object({
    data: z.array(z.object({
      price: z.object({ id: z.string().max(255) }).nullish(),
      quantity: z.number().int().nullish(),
      current_period_end: z.number().int().nullish(),
    })),
  }).nullish(),
});

/** The fields of an Invoice the suite reads (its subscription moved under `parent` in 2025-03-31). */
export const invoiceSchema = z.object({
  id: id("in_"),
  subscription: expandable("sub_"),
  parent: z.object({
    subscription_details: z.object({ subscription: expandable("sub_") }).nullish(),
  }).nullish(),
});
