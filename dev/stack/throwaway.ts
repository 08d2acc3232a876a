import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropDatabase } from "./database.ts";
import { freePort } from "./ports.ts";
import { type Stack, type StackOptions, startStack } from "./stack.ts";

/** A stack on free ports in a temp folder, for tests and benchmarks. */
export interface ThrowawayStack extends Stack {
  localDir: string;
  /** Stops the stack and deletes its folder (and its database, on an external server). */
  dispose(): Promise<void>;
}

const live = new Set<ThrowawayStack>();
let signalsHandled = false;

// An interrupted benchmark must not leave Postgres and Deno processes running.
function disposeOnSignals() {
  if (signalsHandled) return;
  signalsHandled = true;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, async () => {
      await Promise.allSettled([...live].map((stack) => stack.dispose()));
      process.exit(130);
    });
  }
}

/**
 * Starts a complete stack that touches nothing of the developer's: embedded Postgres on a free
 * port in a temp folder, or a fresh database inside `externalUrl`'s cluster. Its output goes to
 * stack.log in that folder and is printed only if start-up fails.
 */
export async function startThrowawayStack(
  name: string,
  functionEnv: Record<string, string>,
  externalUrl?: string,
  wakeups?: StackOptions["wakeups"],
  dev: Pick<StackOptions, "watch" | "functionsDir"> = {},
): Promise<ThrowawayStack> {
  const localDir = mkdtempSync(join(tmpdir(), `${name}-`));
  // When run as root the embedded cluster runs as the postgres user, which must reach its folder.
  chmodSync(localDir, 0o755);
  const logFile = join(localDir, "stack.log");
  const database = `${name.replace(/\W/g, "_")}_${process.pid}_${Date.now()}`;
  try {
    const stack = await startStack({
      localDir,
      gatewayPort: 0,
      // Postgres cannot take "any port" (0): this one is free now and bound once the cluster runs.
      dbPort: await freePort(),
      mailPort: 0,
      wakeups,
      databaseUrl: externalUrl,
      freshDatabase: database,
      functionEnv,
      ...dev,
      log: (line) => appendFileSync(logFile, line + "\n"),
    });
    const handle: ThrowawayStack = {
      ...stack,
      localDir,
      async dispose() {
        if (!live.delete(handle)) return;
        await stack.stop();
        if (externalUrl) await dropDatabase(externalUrl, database).catch(() => {});
        rmSync(localDir, { recursive: true, force: true });
      },
    };
    live.add(handle);
    disposeOnSignals();
    return handle;
  } catch (error) {
    console.error(readFileSync(logFile, { encoding: "utf8", flag: "a+" }));
    rmSync(localDir, { recursive: true, force: true });
    throw error;
  }
}
