import { readFileSync } from "node:fs";
import postgres from "postgres";
import { describe, expect, it } from "vitest";
import { SCHEMA_FILE, schemaText } from "../../dev/schema/catalog.ts";
import { createMigratedDatabase } from "../../dev/schema/migrated.ts";
import { stack } from "../helpers/stack.ts";

// A database of its own in the test cluster, migrated exactly as the stack's: the shared test
// database also holds what other files add while they run (test_support schemas, triggers that
// hold a transaction open), which is not the project's schema.
async function migratedSchema(): Promise<string> {
  const db = await createMigratedDatabase(stack.adminUrl, `schema_test_${process.pid}_${Date.now()}`, () => {});
  try {
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      return await schemaText(sql);
    } finally {
      await sql.end();
    }
  } finally {
    await db.dispose();
  }
}

describe("supabase/schema.sql", () => {
  it("holds exactly what the migrations make", async () => {
    const migrated = await migratedSchema();
    const file = readFileSync(SCHEMA_FILE, "utf8");
    // Expected: the file; received: the migrations (a "+" line is new in them).
    expect(migrated, "supabase/schema.sql differs from what supabase/migrations make: run npm run schema").toBe(file);
  }, 120_000);

  it("is read the same way twice", async () => {
    const [first, second] = [await migratedSchema(), await migratedSchema()];
    expect(second).toBe(first);
  }, 180_000);
});
