import { describe, expect, it } from "vitest";
import { ORDER_STATUSES } from "../../supabase/functions/stripe-webhook/plan-effect.ts";
import { testSql } from "../helpers/stack.ts";

const sql = testSql();

describe("the order lifecycle, defined once in SQL", () => {
  it("names exactly the statuses the TypeScript OrderStatus names", async () => {
    const [{ statuses }] = await sql`select public.order_lifecycle() as statuses`;
    expect([...statuses].sort()).toEqual([...ORDER_STATUSES].sort());
  });

  it("is what orders.status accepts, and nothing else", async () => {
    const [{ statuses }] = await sql`select public.order_lifecycle() as statuses`;
    const accepted: string[] = [];
    const rolledBack = new Error("rolled back");
    for (const status of [...statuses, "lost", "PAID"]) {
      // Each insert is rolled back: nothing is left behind, no trigger's email or event survives.
      const error = await sql.begin(async (tx) => {
        await tx`insert into public.orders (status, amount_total) values (${status}, 100)`;
        throw rolledBack;
      }).catch((e: unknown) => e);
      if (error === rolledBack) accepted.push(status);
      else expect((error as { code?: string }).code).toBe("23514");
    }
    expect(accepted).toEqual(statuses);
  });
});
