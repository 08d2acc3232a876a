import { describe, expect, it } from "vitest";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import { type ResendEvent, resendEventSchema } from "../../supabase/functions/resend-webhook/event-schema.ts";
import { HANDLED_EVENT_TYPES, planResendEvent } from "../../supabase/functions/resend-webhook/plan-event.ts";

const event = (type: string, data: Record<string, unknown>): ResendEvent =>
  resendEventSchema.parse({ type, created_at: "2026-11-22T10:00:00.000Z", data });

describe("resendEventSchema", () => {
  it("keeps fields it does not know", () => {
    const parsed = resendEventSchema.parse({
      type: "email.clicked",
      created_at: "2026-11-22T10:00:00.000Z",
      data: { email_id: "m", click: { link: "https://example.com/" } },
      extra: 1,
    });
    expect(parsed).toMatchObject({ extra: 1, data: { click: { link: "https://example.com/" } } });
  });

  it("accepts Resend's offset timestamps and refuses anything else", () => {
    const base = { type: "email.sent", data: {} };
    expect(resendEventSchema.safeParse({ ...base, created_at: "2026-11-22T10:00:00.123456+00:00" }).success).toBe(true);
    expect(resendEventSchema.safeParse({ ...base, created_at: "yesterday" }).success).toBe(false);
  });
});

describe("planResendEvent", () => {
  it("reads the message id, bounce type and recipients of a bounce", () => {
    const plan = planResendEvent(event("email.bounced", {
      email_id: "4ef9a417",
      to: ["Ada <ada@example.com>"],
      bounce: { type: "Transient", subType: "MailboxFull", message: "full" },
    }));
    expect(plan).toEqual({ messageId: "4ef9a417", bounceType: "Transient", recipients: ["Ada <ada@example.com>"] });
  });

  it("passes a bounce without a type as null (the database treats it as hard)", () => {
    expect(planResendEvent(event("email.bounced", { email_id: "m", bounce: null })).bounceType).toBeNull();
  });

  it.each(HANDLED_EVENT_TYPES)("%s without email_id is a 400 naming data.email_id", (type) => {
    let error: unknown;
    try {
      planResendEvent(event(type, { to: ["a@example.com"] }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 400, code: "invalid_request", security: "malformed_payload" });
    expect((error as HttpError).details).toContainEqual(expect.objectContaining({ path: "data.email_id" }));
  });

  it("does not check the data of types it does not handle", () => {
    const contact = event("contact.created", { id: "c_1", email: "a@example.com", to: "not an email list" });
    expect(planResendEvent(contact)).toEqual({ messageId: null, bounceType: null, recipients: [] });
  });
});
