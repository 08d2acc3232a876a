import { describe, expect, it } from "vitest";
import {
  EVENT_CATALOGUE,
  publishableTypeProblem,
  subscriptionProblem,
} from "../../supabase/functions/_shared/event-catalogue.ts";
import { cursorParam, encodeCursor } from "../../supabase/functions/webhook-endpoints/cursor.ts";
import { newSigningSecret } from "../../supabase/functions/_shared/signing-secret.ts";

describe("the event catalogue", () => {
  it("holds only types outbound_events accepts (its check constraint's pattern)", () => {
    for (const type of EVENT_CATALOGUE) expect(type).toMatch(/^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/);
    expect(new Set(EVENT_CATALOGUE).size).toBe(EVENT_CATALOGUE.length);
  });

  it("accepts '*', every catalogue type, and prefix wildcards that cover a type", () => {
    for (const pattern of ["*", ...EVENT_CATALOGUE, "order.*", "vendor.*", "message.*", "message.attempt.*"]) {
      expect(subscriptionProblem(pattern), pattern).toBeNull();
    }
  });

  it("refuses unknown types, partial-segment wildcards and wildcards that cover nothing", () => {
    expect(subscriptionProblem("order.exploded")).toBe('unknown event type "order.exploded"');
    expect(subscriptionProblem("Order.created")).toBe('unknown event type "Order.created"');
    for (const pattern of ["ord*", "order*", "*.created", "order.**", "order.c*", ".*", "", " order.created"]) {
      expect(subscriptionProblem(pattern), pattern).toMatch(/^unknown event type/);
    }
    expect(subscriptionProblem("refund.*")).toBe('"refund.*" matches no event type');
    expect(subscriptionProblem("order.created.*")).toBe('"order.created.*" matches no event type');
  });
});

describe("inbound types", () => {
  it("lets partners subscribe to forwarded inbound.* types", () => {
    for (const pattern of ["inbound.*", "inbound.lead", "inbound.close.lead_updated", "production.*"]) {
      expect(subscriptionProblem(pattern), pattern).toBeNull();
    }
    for (const pattern of ["inbound", "inbound.", "inbound.Lead", "inbound.lead-x"]) {
      expect(subscriptionProblem(pattern), pattern).not.toBeNull();
    }
  });

  it("publishes catalogue and inbound.<name> types only", () => {
    for (const type of ["production.stage_changed", "quality_control.failed", "inbound.lead", "inbound.a.b_c"]) {
      expect(publishableTypeProblem(type), type).toBeNull();
    }
    for (const type of ["inbound", "inbound.*", "order.exploded", "Inbound.lead", "inbound.1x", ""]) {
      expect(publishableTypeProblem(type), type).toMatch(/neither a catalogue type/);
    }
  });
});

describe("cursors and secrets", () => {
  it("round-trips a cursor and refuses one it did not make", () => {
    const cursor = { at: "2026-11-22T10:00:00.123456Z", id: "0b8e5f0e-7c1d-4a2b-9e3f-123456789abc" };
    expect(cursorParam.parse(encodeCursor(cursor))).toEqual(cursor);
    for (const bad of ["", "garbage", encodeCursor({ ...cursor, at: "2026-11-22T10:00:00Z" }), btoa("a|b|c")]) {
      expect(cursorParam.safeParse(bad).success, bad).toBe(false);
    }
  });

  it("makes Standard Webhooks secrets of 24 random bytes", () => {
    const secret = newSigningSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(24);
    expect(newSigningSecret()).not.toBe(secret);
  });
});
