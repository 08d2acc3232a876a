import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDatabase, dropDatabase, migrateDatabase } from "../stack/database.ts";
import { freePort } from "../stack/ports.ts";
import { startEmbeddedPostgres } from "../stack/postgres.ts";

/** A database holding exactly what the migrations make, and how to get rid of it. */
export interface MigratedDatabase {
  url: string;
  dispose(): Promise<void>;
}

/** An embedded Postgres of its own in a temp folder, migrated; for `npm run schema`. */
export async function startMigratedPostgres(log: (line: string) => void): Promise<MigratedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), "schema-"));
  // As root the cluster runs as the postgres user, which must reach its folder.
  chmodSync(dir, 0o755);
  try {
    const pg = await startEmbeddedPostgres(join(dir, "db"), await freePort(), log);
    const dispose = async () => {
      await pg.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    await migrateDatabase(pg.url, log).catch(async (error) => {
      await dispose();
      throw error;
    });
    return { url: pg.url, dispose };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** A fresh database named `name` inside `adminUrl`'s cluster, migrated; for tests. */
export async function createMigratedDatabase(
  adminUrl: string,
  name: string,
  log: (line: string) => void,
): Promise<MigratedDatabase> {
  const url = await createDatabase(adminUrl, name);
  const dispose = () => dropDatabase(adminUrl, name);
  await migrateDatabase(url, log).catch(async (error) => {
    await dispose();
    throw error;
  });
  return { url, dispose };
}
