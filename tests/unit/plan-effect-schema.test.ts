import { describe, expect, it } from "vitest";
import { stripeEvent } from "../../dev/stripe/fixtures.ts";
import type { StripeEvent } from "../../supabase/functions/stripe-webhook/event-schema.ts";
import { effectSchema, HANDLED_EVENT_TYPES, planEffect } from "../../supabase/functions/stripe-webhook/plan-effect.ts";

const ORDER_ID = "0b6f3c2e-8d1a-4f5b-9c7e-2a4d6e8f0a1b";
const event = (type: string) => stripeEvent(type, { orderId: ORDER_ID }) as unknown as StripeEvent;

describe("effectSchema: the JSON planEffect hands to apply_stripe_event", () => {
  it.each([...HANDLED_EVENT_TYPES, "customer.created"])("describes what %s plans, key for key", (type) => {
    const effect = planEffect(event(type));
    expect(effectSchema.parse(effect)).toEqual(effect);
  });

  it("refuses a key it does not know instead of dropping it on the way to SQL", () => {
    const effect = planEffect(event("payment_intent.succeeded"));
    expect(() => effectSchema.parse({ ...effect, set: { ...(effect as { set: object }).set, amount_total: 1 } }))
      .toThrow();
  });

  it("refuses a status outside the order lifecycle", () => {
    const effect = planEffect(event("payment_intent.succeeded"));
    expect(() => effectSchema.parse({ ...effect, status: "shipped" })).toThrow();
  });
});
