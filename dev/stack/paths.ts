import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Where the local stack keeps its data, secrets and stack.env; git-ignored. */
export const LOCAL_DIR = join(ROOT, ".local");
export const FUNCTIONS_DIR = join(ROOT, "supabase/functions");
export const CONFIG_TOML = join(ROOT, "supabase/config.toml");

const require = createRequire(import.meta.url);

/**
 * The Deno executable from the `deno` npm package. Spawned directly rather than through the
 * package's Node shim, so signals reach Deno and a stopped stack leaves no orphan behind.
 */
export function denoBinary(): string {
  const packaged = join(dirname(require.resolve("deno/package.json")), "deno");
  return existsSync(packaged) ? packaged : join(ROOT, "node_modules/.bin/deno");
}

/** The Supabase CLI from the `supabase` npm package. */
export function supabaseBinary(): string {
  return join(ROOT, "node_modules/.bin/supabase");
}
