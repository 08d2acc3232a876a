import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import { verifyResendWebhook } from "../../supabase/functions/resend-webhook/verify.ts";

const whsec = () => `whsec_${randomBytes(24).toString("base64")}`;
const [current, previous] = [whsec(), whsec()];
const body = JSON.stringify({ type: "email.delivered", created_at: new Date().toISOString(), data: { email_id: "m_1" } });

function headers(options: { secret?: string; date?: Date; id?: string; payload?: string } = {}) {
  const date = options.date ?? new Date();
  const id = options.id ?? "msg_unit_1";
  return new Headers({
    "svix-id": id,
    "svix-timestamp": String(Math.floor(date.getTime() / 1000)),
    "svix-signature": new Webhook(options.secret ?? current).sign(id, date, options.payload ?? body),
  });
}

function refusal(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error("expected a refusal");
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000);

describe("verifyResendWebhook", () => {
  it("returns the svix id and the parsed event for a valid signature", () => {
    expect(verifyResendWebhook(body, headers(), [current])).toEqual({ svixId: "msg_unit_1", payload: JSON.parse(body) });
  });

  it("accepts the previous secret while a rotation is under way", () => {
    expect(verifyResendWebhook(body, headers({ secret: previous }), [current, previous]).svixId).toBe("msg_unit_1");
  });

  it.each(["svix-id", "svix-timestamp", "svix-signature"])("refuses a request without %s", (name) => {
    const given = headers();
    given.delete(name);
    expect(refusal(() => verifyResendWebhook(body, given, [current]))).toMatchObject({
      status: 401,
      code: "missing_signature",
      security: "signature_failure",
    });
  });

  it("refuses a signature made with another secret", () => {
    expect(refusal(() => verifyResendWebhook(body, headers({ secret: whsec() }), [current, previous]))).toMatchObject({
      status: 401,
      code: "invalid_signature",
      security: "signature_failure",
    });
  });

  it("refuses a body changed after signing", () => {
    const error = refusal(() => verifyResendWebhook(body.replace("m_1", "m_2"), headers(), [current]));
    expect(error.code).toBe("invalid_signature");
  });

  it.each([
    ["ten minutes old", minutesAgo(10)],
    ["ten minutes ahead", minutesAgo(-10)],
  ])("calls a valid signature %s a replay", (_label, date) => {
    expect(refusal(() => verifyResendWebhook(body, headers({ date }), [current]))).toMatchObject({
      status: 401,
      code: "timestamp_outside_tolerance",
      security: "replay",
    });
  });

  it("calls a forged signature with an old timestamp invalid, not a replay", () => {
    const error = refusal(() => verifyResendWebhook(body, headers({ date: minutesAgo(10), secret: whsec() }), [current]));
    expect(error).toMatchObject({ code: "invalid_signature", security: "signature_failure" });
  });

  it("accepts a timestamp within the 5-minute tolerance", () => {
    expect(verifyResendWebhook(body, headers({ date: minutesAgo(4) }), [current]).svixId).toBe("msg_unit_1");
  });

  it("answers malformed JSON under a valid signature with 400 invalid_json", () => {
    const payload = '{"type": "email.delivered", ';
    expect(refusal(() => verifyResendWebhook(payload, headers({ payload }), [current]))).toMatchObject({
      status: 400,
      code: "invalid_json",
    });
  });

  it("answers 500 not_configured without a secret", () => {
    expect(refusal(() => verifyResendWebhook(body, headers(), []))).toMatchObject({ status: 500, code: "not_configured" });
  });

  it("lets a malformed secret surface as a fault instead of a bad signature", () => {
    expect(() => verifyResendWebhook(body, headers(), ["whsec_"])).toThrow(/empty/);
  });
});
