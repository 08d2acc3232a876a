import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { ROOT, supabaseBinary } from "./paths.ts";

const run = promisify(execFile);

/** Creates the Supabase roles, schemas, default grants and auth helpers (idempotent). */
export async function bootstrapSupabase(url: string): Promise<void> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(readFileSync(join(ROOT, "dev/stack/supabase-bootstrap.sql"), "utf8"));
  } finally {
    await sql.end();
  }
}

/**
 * `url` as the Supabase CLI should get it. The CLI asks for TLS unless told otherwise, and a
 * Postgres on this machine (the embedded one has no certificate) does not speak it.
 */
export function cliDatabaseUrl(url: string): string {
  const parsed = new URL(url);
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (loopback && !parsed.searchParams.has("sslmode")) parsed.searchParams.set("sslmode", "disable");
  return parsed.toString();
}

/**
 * Applies supabase/migrations and supabase/seed.sql with the Supabase CLI, exactly as
 * `supabase db push` would against a hosted project; the CLI records what ran, so a restart
 * applies only new migrations and seeds only once.
 */
export async function pushMigrations(url: string, log: (line: string) => void): Promise<void> {
  try {
    const { stdout, stderr } = await run(
      supabaseBinary(),
      ["db", "push", `--db-url=${cliDatabaseUrl(url)}`, "--include-seed", "--yes", "--workdir", ROOT],
      { cwd: ROOT, env: { ...process.env, SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" }, timeout: 180_000 },
    );
    // The CLI tells its progress on stderr and its verdict on stdout.
    for (const line of `${stderr}\n${stdout}`.split("\n")) {
      if (/Applying migration|Seeding data|up to date|Finished/i.test(line)) log(line.trim());
    }
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const output = `${stderr}\n${stdout}`.trim();
    if (output.includes("Remote migration versions not found")) {
      throw new Error(
        "the database has run migrations that supabase/migrations no longer holds (folded before the first " +
          "release): `npm run reset` wipes the local data, and the next start applies the migrations afresh\n" + output,
      );
    }
    const cause = output.split("\n").find((line) => /^ERROR:|error|failed/i.test(line.trim())) ?? String(error);
    // The CLI names each file as it starts it: the last one named is the one that failed.
    const failing = [...output.matchAll(/Applying migration (\S+?)\.\.\./g)].at(-1)?.[1];
    const culprit = failing ? ` in supabase/migrations/${failing}` : "";
    throw new Error(`supabase db push failed: ${cause.trim()}${culprit}\n${output}`);
  }
}

/**
 * Makes `url` a migrated Supabase database: roles, schemas and grants first, then the migrations
 * and seed. `npm start`, `npm run migrate`, `npm run schema` and the tests all prepare a
 * database this way.
 */
export async function migrateDatabase(url: string, log: (line: string) => void): Promise<void> {
  log("preparing Supabase roles and schemas...");
  await bootstrapSupabase(url);
  log("applying migrations and seed with the Supabase CLI...");
  await pushMigrations(url, log);
}

/** Creates `name` in the cluster behind `adminUrl` and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`create database "${name}"`);
  } finally {
    await sql.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Drops `name`, disconnecting whoever is still in it. */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end();
  }
}
