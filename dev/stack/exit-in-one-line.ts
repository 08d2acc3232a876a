import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_DIR } from "./paths.ts";

/**
 * Ends a dev command that failed with one line that says what went wrong, never a stack trace.
 * A longer story (the Supabase CLI's output for a migration that does not apply) goes to
 * `.local/<last word of command>-error.log`, which the line names.
 */
export function exitInOneLine(command: string, error: unknown): never {
  const message = (error instanceof Error ? error.message : String(error)) || "unknown error";
  const [first, ...rest] = message.trim().split("\n");
  let details = "";
  if (rest.length > 0) {
    const file = join(LOCAL_DIR, `${command.split(" ").at(-1)}-error.log`);
    mkdirSync(LOCAL_DIR, { recursive: true });
    writeFileSync(file, message + "\n");
    details = ` (details in ${file})`;
  }
  console.error(`${command} failed: ${first}${details}`);
  process.exit(1);
}
