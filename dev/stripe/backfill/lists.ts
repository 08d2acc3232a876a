import Stripe from "stripe";
import type { MirrorName } from "../../../supabase/functions/_shared/stripe-mirror.ts";

/** What every list call takes: the page size, the `--since` filter and the cursor. */
export interface ListParams {
  limit: number;
  created?: { gte: number };
  starting_after?: string;
}

/** A list call's auto-paginating result, as far as the backfill uses it. */
export type ObjectList = AsyncIterable<{ id: string; object: string }>;

/**
 * How each mirrored type is listed: everything Stripe still has, so subscriptions with
 * `status: "all"` (canceled included; Stripe leaves them out by default) and products and
 * prices with `active` unset (inactive included). Nothing is expanded: the mirror keeps
 * objects as events carry them, with ids where Stripe puts ids.
 */
export const LISTS: Record<MirrorName, (stripe: Stripe, params: ListParams) => ObjectList> = {
  customers: (stripe, params) => stripe.customers.list(params),
  products: (stripe, params) => stripe.products.list(params),
  prices: (stripe, params) => stripe.prices.list(params),
  subscriptions: (stripe, params) => stripe.subscriptions.list({ ...params, status: "all" }),
  invoices: (stripe, params) => stripe.invoices.list(params),
  charges: (stripe, params) => stripe.charges.list(params),
  refunds: (stripe, params) => stripe.refunds.list(params),
  disputes: (stripe, params) => stripe.disputes.list(params),
  payment_intents: (stripe, params) => stripe.paymentIntents.list(params),
};

/**
 * A Stripe client for `secretKey`; `apiBase` (STRIPE_API_BASE, e.g. `http://127.0.0.1:12111`)
 * points it at a stand-in instead of api.stripe.com. `maxNetworkRetries` covers connection
 * errors, 409 and 5xx; the SDK does not retry a 429 (stripe-node#1110), the backfill does.
 */
export function stripeClient(secretKey: string, apiBase?: string, maxNetworkRetries = 3): Stripe {
  const base = apiBase ? new URL(apiBase) : undefined;
  return new Stripe(secretKey, {
    maxNetworkRetries,
    telemetry: false,
    appInfo: { name: "stripe-backfill" },
    ...(base
      ? {
        protocol: base.protocol === "http:" ? "http" as const : "https" as const,
        host: base.hostname,
        port: base.port || (base.protocol === "http:" ? 80 : 443),
      }
      : {}),
  });
}
