import type { Sql } from "../_shared/db.ts";

/**
 * The newest migration this code was written against (supabase/migrations/<version>_*.sql);
 * a test keeps it equal to the newest file, so a deploy whose `db push` was forgotten reads down.
 */
export const SCHEMA_VERSION = "20261202001400";

/** Up when the database answers and has run SCHEMA_VERSION; else why not (for the log, never the answer). */
export async function liveness(sql: Sql): Promise<{ up: true } | { up: false; reason: string }> {
  try {
    const [row] = await sql<{ current: boolean }[]>`
      select exists (
        select 1 from supabase_migrations.schema_migrations where version >= ${SCHEMA_VERSION}
      ) as current`;
    return row.current ? { up: true } : { up: false, reason: `migrations older than ${SCHEMA_VERSION}` };
  } catch (error) {
    return { up: false, reason: `database unreachable: ${error instanceof Error ? error.message : String(error)}` };
  }
}
