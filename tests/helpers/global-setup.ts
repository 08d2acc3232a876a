import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import type { StackEnv } from "../../dev/stack/stack.ts";
import { startThrowawayStack } from "../../dev/stack/throwaway.ts";

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

const whsec = () => `whsec_${randomBytes(24).toString("base64")}`;

/**
 * One stack for the whole run, built exactly as `npm start` builds it: Postgres (embedded on
 * a free port, or a fresh database inside TEST_DATABASE_URL's cluster), migrations through the
 * Supabase CLI, every function under Deno, and the gateway.
 */
export default async function setup(project: TestProject) {
  const stack = await startThrowawayStack(
    "integrations-test",
    // Two endpoint secrets, as during a rotation: tests sign with either.
    {
      LOG_LEVEL: "warn",
      STRIPE_WEBHOOK_SECRET: `${whsec()},${whsec()}`,
      // Tests play the outer proxy: the x-forwarded-for entry they send is the client's address.
      TRUSTED_PROXY_HOPS: "2",
      CORS_ALLOWED_ORIGINS: "https://shop.example,https://*.shop.example",
    },
    process.env.TEST_DATABASE_URL || undefined,
  );
  project.provide("stack", { ...stack.env, adminUrl: stack.adminUrl, localDir: stack.localDir });
  return () => stack.dispose();
}
