import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainEmail } from "../../dev/chaos/harness.ts";
import { triggerStripe } from "../../dev/trigger/stripe.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";

// What the README's first walkthrough shows: paying the first demo order with `npm run trigger`
// puts a confirmation with its items and the shop's brand in the Resend stand-in's inbox. A
// stack of its own, since the email queue is drained here.
const DEMO_ORDER = "00000000-0000-4000-8000-000000000001";
let own: OwnStack;

beforeAll(async () => {
  own = await startOwnStack("demo-order-email", { LOG_LEVEL: "warn" });
}, 120_000);

afterAll(async () => {
  await own?.close();
});

describe("paying the demo order with npm run trigger", () => {
  it("sends a confirmation with the order's lines, totals and the demo brand", async () => {
    const env = own.stack.env as unknown as Record<string, string>;
    const log = console.log;
    console.log = () => {};
    try {
      const ok = await triggerStripe({
        type: "payment_intent.succeeded",
        orderId: DEMO_ORDER,
        functionsUrl: env.SUPABASE_URL,
        secret: env.STRIPE_WEBHOOK_SECRET.split(",")[0],
        databaseUrl: env.DATABASE_URL,
      });
      expect(ok).toBe(true);
    } finally {
      console.log = log;
    }
    await drainEmail({ env, sql: own.sql, log: () => {} });
    const inbox = (await (await fetch(`${env.RESEND_BASE_URL}/inbox`)).json()).data as { id: string; to: string[]; subject: string }[];
    const mail = inbox.find((m) => [m.to].flat().includes("ada@example.com"));
    expect(mail, JSON.stringify(inbox)).toBeDefined();
    const shown = await (await fetch(`${env.RESEND_BASE_URL}/inbox/${mail!.id}/html`)).text();
    for (const text of ["Stoneware mug", "Sencha green tea, 100 g", "$30.00", "$42.00", "Demo Tea Shop", "DEMO-0001"]) {
      expect(shown).toContain(text);
    }
  }, 60_000);
});
