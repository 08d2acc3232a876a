import { join } from "node:path";
import { type ServedFunction, serveFunction } from "../../dev/stack/functions.ts";
import { ROOT } from "../../dev/stack/paths.ts";

/**
 * Serves bench/baselines/by-hand under real Deno, as the stack serves a function, with the
 * functions' environment (same database URL, Stripe secret and pool size). It writes the
 * project's own tables, so it needs events and orders of its own (see prepareEvents).
 */
export function startByHand(env: Record<string, string>, log: (line: string) => void): Promise<ServedFunction> {
  return serveFunction("by-hand", env, log, join(ROOT, "bench/baselines"));
}
