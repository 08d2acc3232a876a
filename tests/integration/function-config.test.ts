import { describe, expect, it } from "vitest";
import { spawnFunction } from "../../dev/stack/functions.ts";
import { extraInstance } from "../helpers/browser.ts";
import { createOrder, postStripe, stack, testSql } from "../helpers/stack.ts";
import { stripeEvent } from "../../dev/stripe/fixtures.ts";

const sql = testSql();

/** The stack's settings, as every function gets them; each test changes one. */
const env = () => ({ ...stack, SUPABASE_DB_URL: stack.DATABASE_URL, LOG_LEVEL: "error" }) as Record<string, string>;

/**
 * Runs one function under real Deno exactly as the stack does (dev/stack/functions.ts), and
 * waits for it to end: one whose configuration cannot be used must exit by itself.
 */
async function runUntilExit(name: string, vars: Record<string, string | undefined>) {
  const given = Object.entries(vars).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const child = spawnFunction(name, Object.fromEntries(given));
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  clearTimeout(timer);
  const lines = output.split("\n").filter((line) => line.trim() !== "");
  return { code, lines, output };
}

describe("a function whose configuration cannot be used does not start", () => {
  it.each([
    ["stripe-webhook", "STRIPE_WEBHOOK_SECRET"],
    ["resend-webhook", "RESEND_WEBHOOK_SECRET"],
    ["email-service", "RESEND_API_KEY"],
  ])("%s without %s: one log line naming it, then a non-zero exit", async (name, variable) => {
    const { code, lines } = await runUntilExit(name, { ...env(), [variable]: undefined });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({
      level: "error",
      fn: name,
      msg: `not starting: ${variable} is not set`,
      variables: [variable],
    });
  }, 40_000);

  it("names an invalid variable without its value, nor the function's secret", async () => {
    const pasted = "whsec_pastedIntoTheWrongVariable0123456789";
    const secret = "whsec_theRealSecretOfThisEndpoint987654321";
    const { code, lines, output } = await runUntilExit("stripe-webhook", {
      ...env(),
      STRIPE_WEBHOOK_SECRET: secret,
      MAX_BODY_BYTES: pasted,
    });
    expect(code).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ fn: "stripe-webhook", variables: ["MAX_BODY_BYTES"] });
    expect(output).not.toContain(pasted);
    expect(output).not.toContain("pastedIntoTheWrongVariable");
    expect(output).not.toContain(secret);
  }, 40_000);

  it("names a malformed SUPABASE_DB_URL without its password", async () => {
    const { code, lines, output } = await runUntilExit("webhook-endpoints", {
      ...env(),
      SUPABASE_DB_URL: "postgres user:s3cr3t-pa55word@db host/postgres",
    });
    expect(code).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).variables).toEqual(["SUPABASE_DB_URL"]);
    expect(output).not.toContain("s3cr3t-pa55word");
  }, 40_000);

  it("email-service with an EMAIL_BATCH_SIZE over Resend's 100 exits, naming it", async () => {
    const { code, lines } = await runUntilExit("email-service", { ...env(), EMAIL_BATCH_SIZE: "500" });
    expect(code).not.toBe(0);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]).variables).toEqual(["EMAIL_BATCH_SIZE"]);
  }, 40_000);
});

describe("another function's bad variable does not stop a function", () => {
  const stripe = extraInstance("stripe-webhook", {
    EMAIL_BATCH_SIZE: "500",
    RESEND_API_KEY: "",
    WEBHOOK_CONCURRENCY: "0",
    SHARE_DEDUP_WINDOW_SECONDS: "never",
  });

  it("stripe-webhook serves and applies a signed event", async () => {
    const orderId = await createOrder(sql);
    const res = await postStripe(stripeEvent("payment_intent.succeeded", { orderId }), { url: stripe.baseUrl() });
    expect(res.status).toBe(200);
    const [order] = await sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("paid");
  });
});
