import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { stack, testSql } from "../helpers/stack.ts";

// npm run email:preview against the test stack's database: a real order's confirmation, with
// its lines, rendered as email-service would send it.
const sql = testSql();
const run = promisify(execFile);
const preview = (...args: string[]) =>
  run("node_modules/.bin/tsx", ["dev/email/preview.ts", ...args], { env: { ...process.env, DATABASE_URL: stack.DATABASE_URL } });

describe("npm run email:preview", () => {
  it("writes an order's confirmation, html and text, with its items and totals, and prints where", async () => {
    const order = await sql.begin(async (tx) => {
      const [o] = await tx`insert into public.orders (amount_total, currency, number, customer_name)
        values (3900, 'eur', public.next_order_number(), 'Grace Hopper') returning id, number`;
      await tx`insert into public.order_items (order_id, product_id, name, quantity, unit_price, currency)
        values (${o.id}, 'p1', 'Cast-iron kettle', 1, 3900, 'eur')`;
      return o;
    });
    const out = mkdtempSync(join(tmpdir(), "preview-"));
    const { stdout } = await preview("order_confirmation", "--order", order.id, "--out", out);
    expect(stdout).toContain(`html:    ${join(out, "order_confirmation.html")}`);
    const text = readFileSync(join(out, "order_confirmation.txt"), "utf8");
    const html = readFileSync(join(out, "order_confirmation.html"), "utf8");
    for (const part of [text, html]) {
      expect(part).toContain("Cast-iron kettle");
      expect(part).toContain("€39.00");
      expect(part).toContain(order.number);
    }
  });

  it("refuses an unknown template, naming the stored ones, and an unknown order", async () => {
    await expect(preview("no_such_template")).rejects.toMatchObject({ stderr: expect.stringContaining("order_confirmation") });
    await expect(preview("order_confirmation", "--order", "00000000-0000-4000-8000-00000000ffff"))
      .rejects.toMatchObject({ stderr: expect.stringContaining("No order") });
  });
});
