import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonb, jsonbFromText, typedJsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { testSql } from "../helpers/stack.ts";

const sql = testSql();

describe("jsonb arguments", () => {
  it("arrive as the object, not as a JSON string holding it", async () => {
    const [row] = await sql`select jsonb_typeof(${jsonb(sql, { a: [1, "two"] })}) as type, ${jsonb(sql, { a: [1, "two"] })} as value`;
    expect(row).toEqual({ type: "object", value: { a: [1, "two"] } });
  });

  it("keep raw text as sent, except a NUL, which jsonb cannot hold", async () => {
    const [row] = await sql`select ${jsonbFromText(sql, '{"note":"a\\u0000b","n":1.50}')} ->> 'note' as note`;
    expect(row.note).toBe("a\ufffdb");
  });

  it("refuse a value the documenting schema does not accept, before any SQL runs", () => {
    const schema = z.object({ status: z.enum(["paid", "failed"]) });
    expect(() => typedJsonb(sql, schema, { status: "lost" } as never)).toThrow();
  });
});
