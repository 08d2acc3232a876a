import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { migrateDatabase } from "./database.ts";
import { exitInOneLine } from "./exit-in-one-line.ts";
import { LOCAL_DIR } from "./paths.ts";
import { isPortFree } from "./ports.ts";
import { startEmbeddedPostgres } from "./postgres.ts";
import { preflight } from "./preflight.ts";

// The addresses npm start uses (main.ts).
const GATEWAY_PORT = 54321;
const DB_PORT = 54322;

/** The migrations a database has run, as `<version>_<name>`; none when it has run none. */
async function appliedMigrations(url: string): Promise<string[]> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [{ present }] = await sql`select to_regclass('supabase_migrations.schema_migrations') is not null as present`;
    if (!present) return [];
    const rows = await sql`select version, name from supabase_migrations.schema_migrations order by version`;
    return rows.map((row) => (row.name ? `${row.version}_${row.name}` : String(row.version)));
  } finally {
    await sql.end();
  }
}

/**
 * Applies the migrations in supabase/migrations that the database at `url` has not run, the way
 * npm start does (the Supabase CLI's `db push`, which runs each pending file once and in order,
 * so rows already there stay), and returns the ones it applied.
 */
async function migrate(url: string, log: (line: string) => void): Promise<string[]> {
  const before = new Set(await appliedMigrations(url));
  await migrateDatabase(url, log);
  return (await appliedMigrations(url)).filter((migration) => !before.has(migration));
}

/** DATABASE_URL in .local/stack.env, which a running npm start wrote. */
function runningStackUrl(): string | undefined {
  const file = join(LOCAL_DIR, "stack.env");
  if (!existsSync(file)) return undefined;
  return /^DATABASE_URL=(.+)$/m.exec(readFileSync(file, "utf8"))?.[1].trim();
}

function where(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

// npm run migrate: the database npm start would use, running or not.
async function main() {
  const log = (line: string) => console.log(line);
  let url = process.env.DATABASE_URL || undefined;
  const running = !(await isPortFree(GATEWAY_PORT)) || !(await isPortFree(DB_PORT));
  if (!url && running) url = runningStackUrl() ?? `postgresql://postgres:postgres@127.0.0.1:${DB_PORT}/postgres`;
  let stopPostgres: (() => Promise<void>) | undefined;
  if (url) {
    await preflight({ databaseUrl: url, ports: [] });
    log(`migrating ${where(url)}${running && !process.env.DATABASE_URL ? " (the running npm start's database)" : ""}`);
  } else {
    await preflight({ ports: [[DB_PORT, "Postgres"]] });
    log(`starting the local Postgres (${join(LOCAL_DIR, "db")}) to migrate it; it stops afterwards`);
    const pg = await startEmbeddedPostgres(join(LOCAL_DIR, "db"), DB_PORT, log);
    stopPostgres = pg.stop;
    url = pg.url;
  }
  try {
    // The CLI's own progress lines would repeat the summary below.
    const applied = await migrate(url, () => {});
    if (applied.length === 0) log("up to date: no migration to apply");
    else log(`applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}`).join("\n")}`);
  } finally {
    await stopPostgres?.();
  }
}

main().then(() => process.exit(0), (error) => exitInOneLine("npm run migrate", error));
