import { describe, expect, it } from "vitest";
import { MIRRORED_OBJECTS, mirroredTypes, planMirror } from "../../supabase/functions/_shared/stripe-mirror.ts";

const all = mirroredTypes(Object.keys(MIRRORED_OBJECTS) as (keyof typeof MIRRORED_OBJECTS)[]);
const event = (type: string, object: Record<string, unknown>) => ({ type, data: { object } });

describe("planMirror", () => {
  it.each([
    ["customer.created", 0, false],
    ["customer.updated", 1, false],
    ["invoice.finalized", 1, false],
    ["customer.subscription.deleted", 2, true],
  ])("ranks %s as %i (deleted: %s)", (type, rank, deleted) => {
    expect(planMirror(event(type, { id: "x_1", object: type.startsWith("customer.subscription") ? "subscription" : type.split(".")[0] }), all))
      .toEqual({ rank, deleted });
  });

  it("leaves objects it does not mirror, or without an id, alone", () => {
    expect(planMirror(event("coupon.created", { id: "co_1", object: "coupon" }), all)).toBeNull();
    expect(planMirror(event("customer.created", { object: "customer" }), all)).toBeNull();
    expect(planMirror(event("customer.created", { id: "cus_1", object: "customer" }), mirroredTypes(["invoices"]))).toBeNull();
  });
});
