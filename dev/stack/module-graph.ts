import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { denoBinary, ROOT } from "./paths.ts";

const run = promisify(execFile);

/**
 * The local files `entry` imports, directly or not, as absolute paths; from `deno info --json`,
 * which lists modules that fail to parse or do not exist too, so a broken import still counts.
 * All seven functions' graphs take about 70 ms together (node_modules is read, nothing is
 * fetched). Undefined when Deno cannot tell, so the caller assumes the file matters.
 */
export async function localModules(entry: string): Promise<Set<string> | undefined> {
  try {
    const { stdout } = await run(
      denoBinary(),
      ["info", "--json", "--node-modules-dir=manual", `--config=${join(ROOT, "deno.json")}`, entry],
      { cwd: ROOT, env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" }, maxBuffer: 64 << 20 },
    );
    const graph = JSON.parse(stdout) as { modules: { specifier: string }[] };
    return new Set(
      graph.modules
        .filter((module) => module.specifier.startsWith("file:") && !module.specifier.includes("/node_modules/"))
        .map((module) => fileURLToPath(module.specifier)),
    );
  } catch {
    return undefined;
  }
}
