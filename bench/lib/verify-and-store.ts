import { join } from "node:path";
import type postgres from "postgres";
import { type ServedFunction, serveFunction } from "../../dev/stack/functions.ts";
import { ROOT } from "../../dev/stack/paths.ts";

/** The table the verify-and-store baseline writes; created by the bench, not by a migration. */
export const VERIFY_AND_STORE_TABLE = "bench_verify_and_store";

/**
 * Serves bench/baselines/verify-and-store under real Deno, as the stack serves a function, with
 * the functions' environment (same database URL, Stripe secret and pool size), after creating
 * its table.
 */
export async function startVerifyAndStore(
  sql: postgres.Sql,
  env: Record<string, string>,
  log: (line: string) => void,
): Promise<ServedFunction> {
  await sql`create table if not exists ${sql(VERIFY_AND_STORE_TABLE)} (
    id text primary key, type text not null, payload jsonb not null)`;
  return await serveFunction("verify-and-store", { ...env, VERIFY_AND_STORE_TABLE }, log, join(ROOT, "bench/baselines"));
}
