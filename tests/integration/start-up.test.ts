import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { createMigratedDatabase } from "../../dev/schema/migrated.ts";
import { pushMigrations } from "../../dev/stack/database.ts";
import { ROOT } from "../../dev/stack/paths.ts";
import { clusterDataDir } from "../../dev/stack/postgres-access.ts";
import { startEmbeddedPostgres } from "../../dev/stack/postgres.ts";
import { freePort, isPortFree } from "../../dev/stack/ports.ts";
import { stack } from "../helpers/stack.ts";

const run = promisify(execFile);

/** Runs `npm start`'s entry point as npm does and returns how it ended. */
async function npmStart(env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(join(ROOT, "node_modules/.bin/tsx"), ["dev/stack/main.ts"], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const { code, stdout = "", stderr = "" } = error as { code: number; stdout?: string; stderr?: string };
    return { code, output: stdout + stderr };
  }
}

describe("npm start refuses a start it cannot finish, in one line", () => {
  it("names an unreachable DATABASE_URL without its password, and starts nothing", async () => {
    const port = await freePort();
    const { code, output } = await npmStart({ DATABASE_URL: `postgresql://postgres:hunter2pw@127.0.0.1:${port}/postgres` });
    expect(code).toBe(1);
    expect(output.trim().split("\n")).toEqual([
      expect.stringMatching(new RegExp(`^npm start failed: DATABASE_URL \\(127\\.0\\.0\\.1:${port}/postgres\\) cannot be reached .*unset DATABASE_URL`)),
    ]);
    expect(output).not.toContain("hunter2pw");
  });

  it("names a port that is taken", async () => {
    // 54324 is the Resend stand-in's fixed port; a developer's running stack may hold it (or the others) already.
    let holder: Server | undefined;
    if (await isPortFree(54324)) {
      holder = createServer();
      await new Promise<void>((resolve) => holder!.listen(54324, "127.0.0.1", resolve));
    }
    try {
      const { code, output } = await npmStart({ DATABASE_URL: "" });
      expect(code).toBe(1);
      expect(output.trim().split("\n")).toEqual([
        expect.stringMatching(/^npm start failed: Port 5432[124] \(.+\) is already in use\. Stop whatever holds it/),
      ]);
    } finally {
      holder?.close();
    }
  });
});

describe("the embedded Postgres in a folder its user cannot enter", () => {
  // /root is 0700 on most servers and containers: as root, Postgres runs as the postgres user,
  // which could not reach a project cloned there.
  const home = mkdtempSync(join(tmpdir(), "private-home-"));
  chmodSync(home, 0o700);
  const dataDir = join(home, "project/.local/db");
  mkdirSync(join(home, "project/.local"), { recursive: true });
  afterAll(() => {
    rmSync(clusterDataDir(dataDir), { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  it("starts there and keeps its data across a restart", async () => {
    if (userInfo().uid === 0) expect(clusterDataDir(dataDir)).not.toBe(dataDir);
    const port = await freePort();
    for (const round of [1, 2]) {
      const pg = await startEmbeddedPostgres(dataDir, port, () => {});
      const sql = postgres(pg.url, { max: 1, onnotice: () => {} });
      try {
        if (round === 1) await sql`create table kept as select 42 as answer`;
        else expect(await sql`select answer from kept`).toEqual([{ answer: 42 }]);
      } finally {
        await sql.end();
        await pg.stop();
      }
    }
  });
});

describe("a local database from before a migration was folded", () => {
  it("is named as such, with the command that clears it", async () => {
    const db = await createMigratedDatabase(stack.adminUrl, `folded_${process.pid}_${Date.now()}`, () => {});
    try {
      const sql = postgres(db.url, { max: 1, onnotice: () => {} });
      await sql`insert into supabase_migrations.schema_migrations (version, name) values ('20261122000700', 'folded_away')`;
      await sql.end();
      const failure = await pushMigrations(db.url, () => {}).then(() => "applied", (error: Error) => error.message);
      expect(failure.split("\n")[0]).toMatch(/no longer holds .*`npm run reset` wipes the local data/);
    } finally {
      await db.dispose();
    }
  });
});
