import postgres from "postgres";
import type { StackOptions } from "../../dev/stack/stack.ts";
import { startThrowawayStack, type ThrowawayStack } from "../../dev/stack/throwaway.ts";

/** A stack for one test file, with a SQL client on its database. */
export interface OwnStack {
  stack: ThrowawayStack;
  sql: postgres.Sql;
  close(): Promise<void>;
}

/**
 * A stack of the file's own, for tests whose workers claim every due job in the database
 * (drains, dispatches, wake-ups): on the shared test database they would take the jobs other
 * files are asserting on.
 */
export async function startOwnStack(
  name: string,
  functionEnv: Record<string, string>,
  wakeups?: StackOptions["wakeups"],
): Promise<OwnStack> {
  const stack = await startThrowawayStack(name, functionEnv, undefined, wakeups);
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  return {
    stack,
    sql,
    async close() {
      await sql.end();
      await stack.dispose();
    },
  };
}
