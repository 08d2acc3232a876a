import { describe, expect, it } from "vitest";
import { createLogger } from "../../supabase/functions/_shared/log.ts";
import { maskEmail, REDACTED, redact, redactText } from "../../supabase/functions/_shared/redact.ts";

const JWT =
  "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwicm9sZSI6InNlcnZpY2Vfcm9sZSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const STRIPE_KEY = "sk_live_51HxYzAbCdEfGhIjKlMn";
const WHSEC = "whsec_Zm9vYmFyYmF6cXV4K3Rlc3Q=";
const RESEND_KEY = "re_123456789_AbCdEfGhIjKlMnOp";

describe("redact: values under secret-looking keys", () => {
  it.each([
    ["authorization", `Bearer ${JWT}`],
    ["Authorization", "Basic dXNlcjpwYXNz"],
    ["stripe-signature", "t=1700000000,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd"],
    ["password", "hunter2"],
    ["passwd", "hunter2"],
    ["api_key", "plain-looking-value"],
    ["apiKey", "plain-looking-value"],
    ["x-api-key", "plain-looking-value"],
    ["client_secret", "pi_123_secret_456"],
    ["refresh_token", "opaque"],
    ["cookie", "sb-access-token=abc"],
    ["cvc", "123"],
    ["card_number", "4000056655665556"],
  ])("replaces the value under %s", (key, value) => {
    const out = redact({ [key]: value }) as Record<string, unknown>;
    expect(out[key]).toBe(REDACTED);
    expect(JSON.stringify(out)).not.toContain(value);
  });

  it("replaces a whole object or number under a secret key, not only strings", () => {
    const out = redact({ token: { value: "abc", expires: 1 }, cvv: 123 }) as Record<string, unknown>;
    expect(out).toEqual({ token: REDACTED, cvv: REDACTED });
  });

  it("keeps ordinary fields as they are", () => {
    const input = { status: 200, method: "POST", path: "/orders", ok: true, empty: null, amount: 4200 };
    expect(redact(input)).toEqual(input);
  });

  it("finds secrets in nested objects and arrays", () => {
    const out = redact({
      request: { headers: { authorization: "Bearer abc.def", accept: "application/json" } },
      attempts: [{ password: "p1", user: "u1" }, { password: "p2", user: "u2" }],
    });
    expect(out).toEqual({
      request: { headers: { authorization: REDACTED, accept: "application/json" } },
      attempts: [{ password: REDACTED, user: "u1" }, { password: REDACTED, user: "u2" }],
    });
  });

  it("turns Headers into a plain object with secret headers replaced", () => {
    const headers = new Headers({
      authorization: `Bearer ${JWT}`,
      "stripe-signature": "t=1,v1=abc",
      "content-type": "application/json",
    });
    expect(redact(headers)).toEqual({
      authorization: REDACTED,
      "stripe-signature": REDACTED,
      "content-type": "application/json",
    });
    expect(redact({ headers })).toEqual({ headers: expect.objectContaining({ authorization: REDACTED }) });
  });

  it("does not mutate the input", () => {
    const input = {
      password: "hunter2",
      note: `paid with 4242 4242 4242 4242 by ada@example.com`,
      nested: { api_key: "k", list: [{ token: "t" }] },
    };
    const copy = structuredClone(input);
    const out = redact(input);
    expect(input).toEqual(copy);
    expect(out).not.toBe(input);
  });

  it("cuts off structures nested deeper than it walks instead of recursing without bound", () => {
    type Node = { next?: Node; secret?: string };
    const root: Node = {};
    let node = root;
    for (let i = 0; i < 50; i++) node = node.next = {};
    node.secret = "deep";
    expect(JSON.stringify(redact(root))).not.toContain("deep");
  });
});

describe("redact: Error objects", () => {
  it("keeps name and a scrubbed message, and drops the rest", () => {
    const error = Object.assign(new TypeError(`auth failed for ${STRIPE_KEY} (ada@example.com)`), {
      config: { password: "hunter2" },
    });
    const out = redact({ error }) as { error: Record<string, unknown> };
    expect(out.error.name).toBe("TypeError");
    expect(out.error.message).toBe(`auth failed for ${REDACTED} (a***@example.com)`);
    expect(JSON.stringify(out)).not.toContain("hunter2");
  });
});

describe("redactText: credentials in free text", () => {
  it.each([
    ["a Stripe secret key", STRIPE_KEY],
    ["a Stripe test key", "sk_test_4eC39HqLyjWDarjtT1zdp7dc"],
    ["a Stripe restricted key", "rk_live_51HxYzAbCdEfGh"],
    ["a webhook signing secret", WHSEC],
    ["a Resend key", RESEND_KEY],
    ["a JWT", JWT],
  ])("removes %s", (_label, secret) => {
    const out = redactText(`calling the API with ${secret} failed`);
    expect(out).toBe(`calling the API with ${REDACTED} failed`);
  });

  it("removes a Bearer token together with its scheme", () => {
    const out = redactText("header was Authorization: Bearer abc123.def456-ghi_789== then");
    expect(out).toBe(`header was Authorization: ${REDACTED} then`);
  });

  it("removes several secrets in one string", () => {
    const out = redactText(`key=${STRIPE_KEY} secret=${WHSEC}`);
    expect(out).not.toContain("sk_live_");
    expect(out).not.toContain("whsec_");
  });

  it("leaves ordinary words that merely start like a key alone", () => {
    const text = "the request was re_tried; sk_ prefix alone is fine; pre_existing_condition_value";
    expect(redactText(text)).toBe(text);
  });
});

describe("redactText: card numbers", () => {
  it.each([
    ["spaced", "4242 4242 4242 4242"],
    ["dashed", "4242-4242-4242-4242"],
    ["contiguous", "4242424242424242"],
    ["15-digit Amex", "378282246310005"],
    ["Mastercard", "5555 5555 5555 4444"],
  ])("replaces a Luhn-valid %s number", (_label, pan) => {
    const out = redactText(`card ${pan} declined`);
    expect(out).toBe("card [REDACTED_PAN] declined");
  });

  it.each([
    ["its CVC", "card 4242 4242 4242 4242 123", "card [REDACTED_PAN] 123"],
    ["its expiry", "4242 4242 4242 4242 12/34 ok", "[REDACTED_PAN] 12/34 ok"],
    ["more digits, dashed", "4242-4242-4242-4242-123", "[REDACTED_PAN]-123"],
  ])("replaces a card number followed by %s and keeps what follows", (_label, text, expected) => {
    expect(redactText(text)).toBe(expected);
  });

  it.each([
    ["an order number", "Order 1234567890123 shipped"],
    ["a Luhn-invalid 16-digit run", "ref 4242 4242 4242 4241 noted"],
    ["a short number", "call 555 0100"],
    ["a unix timestamp", "at 1700000000 seconds"],
  ])("keeps %s", (_label, text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe("maskEmail", () => {
  it("keeps the first character and the domain", () => {
    expect(maskEmail("ada@example.com")).toBe("a***@example.com");
    expect(maskEmail("Grace.Hopper+shop@mail.example.co.uk")).toBe("G***@mail.example.co.uk");
  });

  it("masks every address inside a sentence", () => {
    expect(maskEmail("from ada@example.com to bob@shop.test.io")).toBe("from a***@example.com to b***@shop.test.io");
  });

  it("is applied to strings inside objects by redact", () => {
    expect(redact({ customer: { email: "ada@example.com" } })).toEqual({ customer: { email: "a***@example.com" } });
  });
});

describe("createLogger", () => {
  function capture() {
    const lines: string[] = [];
    const logger = createLogger({ fn: "stripe-webhook" }, { sink: (line) => lines.push(line) });
    return { lines, logger };
  }

  it("never writes a secret passed in fields to the sink", () => {
    const { lines, logger } = capture();
    logger.info("incoming", {
      headers: new Headers({ authorization: `Bearer ${JWT}`, "stripe-signature": "t=1,v1=deadbeef" }),
      body: { password: "hunter2", note: `key ${STRIPE_KEY}`, card: "4242424242424242" },
      error: new Error(`bad secret ${WHSEC}`),
      email: "ada@example.com",
    });
    expect(lines).toHaveLength(1);
    for (const secret of [JWT, "deadbeef", "hunter2", STRIPE_KEY, "4242424242424242", WHSEC, "ada@example.com"]) {
      expect(lines[0]).not.toContain(secret);
    }
  });

  it("writes one valid JSON object per line with level, msg and the bound requestId", () => {
    const { lines, logger } = capture();
    const bound = logger.with({ requestId: "req-1" });
    bound.warn("slow query", { ms: 812 });
    bound.error("failed");
    expect(lines).toHaveLength(2);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({ level: "warn", msg: "slow query", requestId: "req-1", fn: "stripe-webhook", ms: 812 });
    expect(second).toMatchObject({ level: "error", msg: "failed", requestId: "req-1" });
    expect(Number.isNaN(Date.parse(first.ts))).toBe(false);
    expect(lines.every((line) => !line.includes("\n"))).toBe(true);
  });

  it("does not change the parent logger when binding fields", () => {
    const { lines, logger } = capture();
    logger.with({ requestId: "req-2" });
    logger.info("plain");
    expect(JSON.parse(lines[0])).not.toHaveProperty("requestId");
  });

  it("drops lines below the minimum level (info by default)", () => {
    const { lines, logger } = capture();
    logger.debug("noise");
    logger.info("kept");
    expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["kept"]);
    const verbose: string[] = [];
    createLogger({}, { minLevel: "debug", sink: (l) => verbose.push(l) }).debug("shown");
    expect(verbose).toHaveLength(1);
  });
});

describe("providers' signature headers", () => {
  it.each(["x-shopify-hmac-sha256", "close-sig-hash", "paypal-transmission-sig", "x-hub-signature-256", "x-shop-key"])(
    "redacts %s",
    (name) => {
      expect(redact(new Headers({ [name]: "c2lnbmF0dXJl", "content-type": "application/json" }))).toEqual({
        [name]: REDACTED,
        "content-type": "application/json",
      });
    },
  );
});
