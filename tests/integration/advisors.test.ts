import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { cliDatabaseUrl } from "../../dev/stack/database.ts";
import { ROOT, supabaseBinary } from "../../dev/stack/paths.ts";
import { stack, testSql } from "../helpers/stack.ts";

const run = promisify(execFile);
const sql = testSql();

describe("supabase db advisors", () => {
  it("reports no security finding, at any level, on the migrated database", async () => {
    const { stdout } = await run(
      supabaseBinary(),
      ["db", "advisors", `--db-url=${cliDatabaseUrl(stack.DATABASE_URL)}`, "--type", "security", "--level", "info", "--output-format", "json", "--workdir", ROOT],
      { cwd: ROOT, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1" }, timeout: 120_000 },
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf("{")));
    expect(report.results.map((r: { detail: string }) => r.detail)).toEqual([]);
  }, 120_000);

  it("leaves RLS on for every table in public", async () => {
    const rows = await sql`
      select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity`;
    expect(rows.map((row) => row.relname)).toEqual([]);
  });
});
