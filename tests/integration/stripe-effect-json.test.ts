import { describe, expect, it } from "vitest";
import { stripeEvent } from "../../dev/stripe/fixtures.ts";
import { stripeEventSchema } from "../../supabase/functions/stripe-webhook/event-schema.ts";
import { type Effect, planEffect } from "../../supabase/functions/stripe-webhook/plan-effect.ts";
import { recordStripeEvent } from "../../supabase/functions/stripe-webhook/record-event.ts";
import { createOrder, testSql } from "../helpers/stack.ts";

const sql = testSql();

async function eventFor(orderId: string) {
  const raw = JSON.stringify(stripeEvent("payment_intent.succeeded", { orderId }));
  return { raw, event: stripeEventSchema.parse(JSON.parse(raw)) };
}

describe("the effect handed to apply_stripe_event", () => {
  it("applies a planned effect, checked against effectSchema on the way", async () => {
    const orderId = await createOrder(sql);
    const { raw, event } = await eventFor(orderId);
    const result = await recordStripeEvent(sql, event, raw, planEffect(event), null, "effect-json-ok");
    expect(result).toMatchObject({ status: "processed", error: null });
    const [order] = await sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("paid");
  });

  it("keeps the event as failed, and changes no order, when the effect drifts from its schema", async () => {
    const orderId = await createOrder(sql);
    const { raw, event } = await eventFor(orderId);
    // A key the builder adds that apply_stripe_event does not know: SQL alone would drop it silently.
    const drifted = { ...planEffect(event), refund_amount: 100 } as unknown as Effect;
    const result = await recordStripeEvent(sql, event, raw, drifted, null, "effect-json-drift");
    expect(result.status).toBe("failed");
    const [stored] =
      await sql`select status, error from public.webhook_events where provider = 'stripe' and event_id = ${event.id}`;
    expect(stored.status).toBe("failed");
    expect(stored.error).toContain("refund_amount");
    const [order] = await sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("pending");
  });
});
