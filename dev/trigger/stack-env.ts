import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_DIR } from "../stack/paths.ts";

/** Reads `.local/stack.env`, written by `npm start`; explains what to do when it is missing. */
export function readStackEnv(): Record<string, string> {
  const file = join(LOCAL_DIR, "stack.env");
  if (!existsSync(file)) {
    throw new Error(`${file} not found: start the local stack first with \`npm start\`.`);
  }
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((line) => line.includes("="))
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}
