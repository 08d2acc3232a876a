import { afterAll, describe, expect, it, vi } from "vitest";
import { FIXTURES } from "../../dev/stripe/fixtures.ts";
import { triggerStripe } from "../../dev/trigger/stripe.ts";
import { stack, stripeSecret } from "../helpers/stack.ts";

// `npm run trigger -- stripe <type>`: every sample is verified and stored, and a mirrored
// object's row is printed afterwards.
const printed: string[] = [];
const log = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
  printed.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
});
afterAll(() => log.mockRestore());

const MIRRORED = Object.keys(FIXTURES).filter((type) => !type.startsWith("checkout."));

describe.each(MIRRORED)("npm run trigger -- stripe %s", (type) => {
  it("answers 200 and prints the mirrored row", async () => {
    printed.length = 0;
    const ok = await triggerStripe({
      type,
      functionsUrl: stack.SUPABASE_URL,
      secret: stripeSecret,
      databaseUrl: stack.DATABASE_URL,
    });
    expect(ok, printed.join("\n")).toBe(true);
    expect(printed.join("\n")).toMatch(/mirrored in stripe_[a-z_]+:/);
    expect(printed.join("\n")).toMatch(/last_event_id/);
  });
});
