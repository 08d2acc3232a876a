import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "../../dev/stack/paths.ts";

const run = promisify(execFile);

describe("package-lock.json", () => {
  it("is in sync with package.json, so `npm ci` installs on a clean clone", async () => {
    // npm ci refuses a lock file that misses any package npm would now resolve, even another
    // platform's optional binary; --dry-run makes that check without touching node_modules.
    const result = await run("npm", ["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: ROOT,
      timeout: 60_000,
    }).then(() => "in sync", (error) => String(error.stderr || error.message));
    expect(result).toBe("in sync");
  });
});
