import { describe, expect, it } from "vitest";
import { HttpError } from "../../supabase/functions/_shared/http/errors.ts";
import {
  genericHmacOptions,
  genericHmacSignature,
  verifyGenericHmac,
} from "../../supabase/functions/_shared/webhook-verify/generic-hmac.ts";
import { githubSignature, verifyGithub } from "../../supabase/functions/_shared/webhook-verify/github.ts";
import { hmac } from "../../supabase/functions/_shared/webhook-verify/hmac.ts";
import type { VerifyInput } from "../../supabase/functions/_shared/webhook-verify/types.ts";

const input = (fields: Partial<VerifyInput> & { headers: Record<string, string> }): VerifyInput => ({
  rawBody: "{}",
  url: new URL("https://project.supabase.co/functions/v1/inbound-webhook/x"),
  secrets: ["secret"],
  options: {},
  toleranceSeconds: 300,
  ...fields,
  headers: new Headers(fields.headers),
});

async function codeOf(promise: Promise<void>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) return error.code;
    throw error;
  }
}

describe("hmac", () => {
  // RFC 4231 test case 2 and RFC 2202 test case 2: key "Jefe".
  it.each(
    [
      ["sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
      ["sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"],
      [
        "sha512",
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
      ],
    ] as const,
  )("matches the RFC vector for %s", async (algorithm, expected) => {
    expect(await hmac(algorithm, "Jefe", "what do ya want for nothing?", "hex")).toBe(expected);
  });
});

describe("github", () => {
  // The example in GitHub's "Validating webhook deliveries".
  const docSecret = "It's a Secret to Everybody";
  const docSignature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

  it("signs and accepts GitHub's documented example", async () => {
    expect(await githubSignature("Hello, World!", docSecret)).toBe(docSignature);
    const request = input({
      rawBody: "Hello, World!",
      secrets: [docSecret],
      headers: { "x-hub-signature-256": docSignature },
    });
    expect(await codeOf(verifyGithub(request))).toBeNull();
  });

  it("accepts the secret a rotation replaced, alongside the new one", async () => {
    const signature = await githubSignature("{}", "old");
    expect(
      await codeOf(verifyGithub(input({ secrets: ["new", "old"], headers: { "x-hub-signature-256": signature } }))),
    )
      .toBeNull();
  });

  it.each([
    ["a missing header", {}, "missing_signature"],
    ["a garbled header", { "x-hub-signature-256": "sha1=abc" }, "invalid_signature"],
    ["a wrong secret", { "x-hub-signature-256": docSignature }, "invalid_signature"],
  ])("refuses %s", async (_label, headers, code) => {
    expect(await codeOf(verifyGithub(input({ rawBody: "Hello, World!", headers })))).toBe(code);
  });

  it("refuses a tampered body", async () => {
    const request = input({
      rawBody: "Hello, World?",
      secrets: [docSecret],
      headers: { "x-hub-signature-256": docSignature },
    });
    expect(await codeOf(verifyGithub(request))).toBe("invalid_signature");
  });
});

describe("generic hmac", () => {
  const now = 1_800_000_000;
  const timed = genericHmacOptions.parse({
    header: "x-sig",
    prefix: "v1=",
    timestamp_header: "x-ts",
    encoding: "base64",
  });

  it("applies the defaults: hex HMAC-SHA256 of the body in x-signature", async () => {
    const options = genericHmacOptions.parse({});
    const expected = await hmac("sha256", "secret", "{}", "hex");
    expect(await genericHmacSignature(options, "{}", "secret", null)).toBe(expected);
    expect(await codeOf(verifyGenericHmac(input({ headers: { "x-signature": expected } })))).toBeNull();
  });

  it("signs the timestamp with the body and accepts it within the tolerance", async () => {
    const signature = await genericHmacSignature(timed, "{}", "secret", String(now - 10));
    expect(signature).toBe(`v1=${await hmac("sha256", "secret", `${now - 10}.{}`, "base64")}`);
    const request = input({ options: timed, now, headers: { "x-sig": signature, "x-ts": String(now - 10) } });
    expect(await codeOf(verifyGenericHmac(request))).toBeNull();
  });

  it("calls a genuine signature on an old timestamp a replay, and a forged one invalid", async () => {
    const old = String(now - 301);
    const genuine = await genericHmacSignature(timed, "{}", "secret", old);
    const forged = await genericHmacSignature(timed, "{}", "guess", old);
    const withSignature = (signature: string) =>
      input({ options: timed, now, headers: { "x-sig": signature, "x-ts": old } });
    expect(await codeOf(verifyGenericHmac(withSignature(genuine)))).toBe("timestamp_outside_tolerance");
    expect(await codeOf(verifyGenericHmac(withSignature(forged)))).toBe("invalid_signature");
  });

  it("refuses a tampered body, a missing timestamp and a replayed timestamp swapped in", async () => {
    const signature = await genericHmacSignature(timed, "{}", "secret", String(now));
    const headers = { "x-sig": signature, "x-ts": String(now) };
    expect(await codeOf(verifyGenericHmac(input({ rawBody: '{"a":1}', options: timed, now, headers })))).toBe(
      "invalid_signature",
    );
    expect(await codeOf(verifyGenericHmac(input({ options: timed, now, headers: { "x-sig": signature } })))).toBe(
      "missing_signature",
    );
    expect(
      await codeOf(verifyGenericHmac(input({ options: timed, now, headers: { ...headers, "x-ts": String(now + 1) } }))),
    ).toBe("invalid_signature");
  });

  it("refuses a signed payload template without the body", () => {
    expect(genericHmacOptions.safeParse({ signed_payload: "{timestamp}" }).success).toBe(false);
  });
});
