import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import {
  isStandardWebhooksSecret,
  standardWebhooksId,
} from "../../supabase/functions/_shared/webhook-verify/standard-webhooks.ts";

const whsec = () => `whsec_${randomBytes(24).toString("base64")}`;
const [current, previous] = [whsec(), whsec()];
const body = JSON.stringify({ type: "email.delivered", created_at: new Date().toISOString(), data: { email_id: "m_1" } });

function headers(options: { secret?: string; date?: Date; id?: string; payload?: string; brand?: string } = {}) {
  const date = options.date ?? new Date();
  const id = options.id ?? "msg_unit_1";
  const brand = options.brand ?? "svix";
  return new Headers({
    [`${brand}-id`]: id,
    [`${brand}-timestamp`]: String(Math.floor(date.getTime() / 1000)),
    [`${brand}-signature`]: new Webhook(options.secret ?? current).sign(id, date, options.payload ?? body),
  });
}

const verify = (rawBody: string, given: Headers, secrets: string[], toleranceSeconds = 300, now?: number) =>
  standardWebhooksId({ rawBody, headers: given, url: new URL("http://x/"), secrets, options: {}, toleranceSeconds, now });

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

describe("standardWebhooksId (Standard Webhooks, Svix, Resend)", () => {
  it("accepts the example of Svix's documentation", () => {
    // https://docs.svix.com/receiving/verifying-payloads/how-manual
    const example = new Headers({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
    const id = verify('{"test": 2432232314}', example, ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], 300, 1614265330);
    expect(id).toBe("msg_p5jXN8AQM9LWM0D4loKWxJek");
  });

  it.each(["svix", "webhook"])("returns the signed message id under %s-* headers", (brand) => {
    expect(verify(body, headers({ brand }), [current])).toBe("msg_unit_1");
  });

  it("accepts the previous secret while a rotation is under way", () => {
    expect(verify(body, headers({ secret: previous }), [current, previous])).toBe("msg_unit_1");
  });

  it("accepts one right entry among several space-separated signatures", () => {
    const given = headers();
    given.set("svix-signature", `v1,${randomBytes(32).toString("base64")} ${given.get("svix-signature")}`);
    expect(verify(body, given, [current])).toBe("msg_unit_1");
  });

  it.each(["svix-id", "svix-timestamp", "svix-signature"])("refuses a request without %s", (name) => {
    const given = headers();
    given.delete(name);
    expect(refusal(() => verify(body, given, [current]))).toMatchObject({
      status: 401,
      code: "missing_signature",
      security: "signature_failure",
    });
  });

  it("refuses a signature made with another secret", () => {
    expect(refusal(() => verify(body, headers({ secret: whsec() }), [current, previous]))).toMatchObject({
      status: 401,
      code: "invalid_signature",
      security: "signature_failure",
    });
  });

  it("refuses a body changed after signing", () => {
    expect(refusal(() => verify(body.replace("m_1", "m_2"), headers(), [current])).code).toBe("invalid_signature");
  });

  it("refuses a garbled timestamp as an invalid signature", () => {
    const given = headers();
    given.set("svix-timestamp", "soon");
    expect(refusal(() => verify(body, given, [current])).code).toBe("invalid_signature");
  });

  it.each([
    ["ten minutes old", minutesAgo(10)],
    ["ten minutes ahead", minutesAgo(-10)],
  ])("calls a valid signature %s a replay", (_label, date) => {
    expect(refusal(() => verify(body, headers({ date }), [current]))).toMatchObject({
      status: 401,
      code: "timestamp_outside_tolerance",
      security: "replay",
    });
  });

  it("applies the source's own tolerance, not the library's fixed five minutes", () => {
    expect(verify(body, headers({ date: minutesAgo(10) }), [current], 3600)).toBe("msg_unit_1");
    expect(refusal(() => verify(body, headers({ date: minutesAgo(2) }), [current], 60)).code)
      .toBe("timestamp_outside_tolerance");
  });

  it("calls a forged signature with an old timestamp invalid, not a replay", () => {
    const error = refusal(() => verify(body, headers({ date: minutesAgo(10), secret: whsec() }), [current]));
    expect(error).toMatchObject({ code: "invalid_signature", security: "signature_failure" });
  });

  it("accepts a timestamp within the 5-minute tolerance", () => {
    expect(verify(body, headers({ date: minutesAgo(4) }), [current])).toBe("msg_unit_1");
  });

  it("tells a usable secret from one the scheme cannot key with", () => {
    expect(isStandardWebhooksSecret(current)).toBe(true);
    expect(isStandardWebhooksSecret(current.slice(6))).toBe(true);
    expect(isStandardWebhooksSecret("whsec_")).toBe(false);
    expect(isStandardWebhooksSecret("not base64 at all!")).toBe(false);
  });
});
