import { writeFileSync } from "node:fs";
import { relative } from "node:path";
import postgres from "postgres";
import { ROOT } from "../stack/paths.ts";
import { SCHEMA_FILE, schemaText } from "./catalog.ts";
import { startMigratedPostgres } from "./migrated.ts";

// npm run schema: migrates a throwaway embedded Postgres from supabase/migrations and writes
// what it then holds to supabase/schema.sql. Nothing of the developer's own database is read,
// so the file shows the migrations, not whatever a local database has been through.
const log: string[] = [];
try {
  const db = await startMigratedPostgres((line) => log.push(line));
  try {
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      writeFileSync(SCHEMA_FILE, await schemaText(sql));
    } finally {
      await sql.end();
    }
  } finally {
    await db.dispose();
  }
  console.log(`wrote ${relative(ROOT, SCHEMA_FILE)}`);
} catch (error) {
  // A migration that does not apply is the usual cause: the CLI's own words say which and why.
  console.error([...log, `npm run schema: ${error instanceof Error ? error.message : String(error)}`].join("\n"));
  process.exitCode = 1;
}
