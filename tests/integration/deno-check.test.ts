import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { denoBinary, FUNCTIONS_DIR, ROOT } from "../../dev/stack/paths.ts";

const run = promisify(execFile);
const entrypoints = readdirSync(FUNCTIONS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !entry.name.startsWith("_"))
  .map((entry) => join(FUNCTIONS_DIR, entry.name, "index.ts"));

// vitest strips types without checking them; production runs the functions under Deno, so
// the functions must type-check and lint there.
describe("function code under Deno", () => {
  it("type-checks every function with deno check", async () => {
    const result = await run(denoBinary(), ["check", "--node-modules-dir=manual", ...entrypoints], {
      cwd: ROOT,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    }).catch((error) => error);
    expect(result.stderr ?? "").not.toMatch(/error/i);
  }, 60_000);

  it("passes deno lint", async () => {
    const result = await run(denoBinary(), ["lint"], {
      cwd: ROOT,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    }).catch((error) => error);
    expect(result.code ?? 0).toBe(0);
  }, 60_000);
});
