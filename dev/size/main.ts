// npm run size: the browser tracking client's weight, minified and gzipped, and what makes it up.
// `npm run size -- --modules` lists every module's share (minified, before gzip).
import { measureBundle, TRACKING_CLIENT_GZIP_BUDGET, TRACKING_CLIENT_GZIP_GOAL } from "./bundle.ts";

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const size = await measureBundle();
const all = process.argv.includes("--modules");
console.log(`client/tracking.ts for the browser (minified ESM, @supabase/supabase-js external)`);
console.log(`  minified  ${kib(size.minified).padStart(10)}  (${size.minified} bytes)`);
console.log(`  gzipped   ${kib(size.gzipped).padStart(10)}  (${size.gzipped} bytes)`);
console.log(`  budget    ${kib(TRACKING_CLIENT_GZIP_BUDGET).padStart(10)}  gzipped (the size test fails beyond)`);
console.log(`  goal      ${kib(TRACKING_CLIENT_GZIP_GOAL).padStart(10)}  gzipped (issue 16)`);

// Grouped by package (valibot) or file (ours), so the split between validator and our code shows.
const groups = new Map<string, number>();
for (const module of size.modules) {
  const key = all
    ? module.path
    : module.path.startsWith("node_modules/")
    ? module.path.split("/")[1]
    : module.path;
  groups.set(key, (groups.get(key) ?? 0) + module.bytes);
}
console.log(`\nminified bytes by ${all ? "module" : "source"} (before gzip):`);
for (const [id, bytes] of [...groups].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${String(bytes).padStart(7)}  ${id}`);
}
if (size.gzipped > TRACKING_CLIENT_GZIP_BUDGET) {
  console.error(`\nOver budget by ${size.gzipped - TRACKING_CLIENT_GZIP_BUDGET} bytes gzipped.`);
  process.exitCode = 1;
}
