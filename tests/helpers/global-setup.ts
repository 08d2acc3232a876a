import { randomBytes } from "node:crypto";
import { appendFileSync, chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { dropDatabase } from "../../dev/stack/database.ts";
import { freePort } from "../../dev/stack/ports.ts";
import { startStack, type StackEnv } from "../../dev/stack/stack.ts";

/** What the test files get through `inject("stack")`. */
export interface TestStack extends StackEnv {
  adminUrl: string;
  localDir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: TestStack;
  }
}

/**
 * One stack for the whole run, as `npm start` builds it: embedded Postgres on a free port
 * (or a fresh database inside TEST_DATABASE_URL's cluster), migrations through the Supabase
 * CLI, every function under Deno, and the gateway. Its output goes to stack.log in the temp
 * folder, which is printed if start-up fails.
 */
const whsec = () => `whsec_${randomBytes(24).toString("base64")}`;

export default async function setup(project: TestProject) {
  const localDir = mkdtempSync(join(tmpdir(), "integrations-test-"));
  // The embedded cluster runs as the postgres user when tests run as root; it must reach its folder.
  chmodSync(localDir, 0o755);
  const logFile = join(localDir, "stack.log");
  const log = (line: string) => appendFileSync(logFile, line + "\n");
  const external = process.env.TEST_DATABASE_URL || undefined;
  const database = `integrations_test_${process.pid}_${Date.now()}`;
  let stack;
  try {
    stack = await startStack({
      localDir,
      gatewayPort: await freePort(),
      dbPort: await freePort(),
      databaseUrl: external,
      freshDatabase: database,
      // Two endpoint secrets, as during a rotation: tests sign with either.
      functionEnv: { LOG_LEVEL: "warn", STRIPE_WEBHOOK_SECRET: `${whsec()},${whsec()}` },
      log,
    });
  } catch (error) {
    console.error(readFileSync(logFile, { encoding: "utf8", flag: "a+" }));
    throw error;
  }
  project.provide("stack", { ...stack.env, adminUrl: stack.adminUrl, localDir });
  return async () => {
    await stack.stop();
    if (external) await dropDatabase(external, database).catch(() => {});
    rmSync(localDir, { recursive: true, force: true });
  };
}
