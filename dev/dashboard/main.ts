import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../stack/paths.ts";
import { buildDashboard } from "./build.ts";

const USAGE = `Usage: npm run build:dashboard -- --url https://<project-ref>.supabase.co [--anon-key <key>] [--out <dir>]

Builds the operator dashboard into dashboard/dist (or --out): static files for any host,
pointed at the project by config.json. With --anon-key, admins can sign in with Supabase Auth.
The host's origin must be in the functions' CORS_ALLOWED_ORIGINS.`;

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    "anon-key": { type: "string" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help || !values.url) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
try {
  new URL(values.url);
} catch {
  console.error(`build:dashboard: --url ${values.url} is not a URL`);
  process.exit(2);
}
const out = values.out ?? join(ROOT, "dashboard", "dist");
await buildDashboard(out, { url: values.url, anonKey: values["anon-key"] });
console.log(`built the dashboard into ${out}, pointed at ${values.url}`);
