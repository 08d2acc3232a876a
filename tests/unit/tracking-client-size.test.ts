import { describe, expect, it } from "vitest";
import { measureBundle, TRACKING_CLIENT_GZIP_BUDGET } from "../../dev/size/bundle.ts";

// The bundle `npm run size` measures: client/tracking.ts for the browser, minified, with
// @supabase/supabase-js left out since the page has it already.
describe("browser tracking client bundle", () => {
  it("stays within its gzipped budget", async () => {
    const size = await measureBundle();
    const heaviest = size.modules.slice(0, 5).map((module) => `${module.path} ${module.bytes}`).join(", ");
    expect(size.gzipped, `gzipped ${size.gzipped} bytes; heaviest minified: ${heaviest}`).toBeLessThanOrEqual(
      TRACKING_CLIENT_GZIP_BUDGET,
    );
  });

  it("carries valibot, no zod (the functions bridge to it server-side) and nothing server-only", async () => {
    const paths = (await measureBundle()).modules.map((module) => module.path);
    expect(paths.some((path) => path.startsWith("node_modules/valibot/"))).toBe(true);
    expect(paths.filter((path) => /\/zod\/|zod-bridge/.test(path))).toEqual([]);
    // The user agent parser and the database stay on the server.
    expect(paths.filter((path) => /ua-parser|postgres|user-agent|_shared\/db/.test(path))).toEqual([]);
    // The browser has supabase-js already: it stays an import, not bundled.
    expect(paths.filter((path) => path.includes("@supabase/"))).toEqual([]);
  });
});
