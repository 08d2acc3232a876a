import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "vite";
import { ROOT } from "../stack/paths.ts";

/** What the dashboard is pointed at (see dashboard/src/config.ts). */
export interface DashboardTarget {
  /** The project's URL; "" when the dashboard's own server proxies the API (npm start, tests). */
  url: string;
  anonKey?: string;
}

/**
 * Builds dashboard/ with Vite into `outDir` (static files for any host) and writes the
 * config.json that points it at a project. The project is read at run time, so one build
 * serves any project: only config.json differs.
 */
export async function buildDashboard(outDir: string, target: DashboardTarget): Promise<void> {
  await build({
    configFile: join(ROOT, "dashboard", "vite.config.ts"),
    build: { outDir, emptyOutDir: true },
    logLevel: "warn",
  });
  writeFileSync(join(outDir, "config.json"), JSON.stringify({ url: target.url, anonKey: target.anonKey }, null, 2) + "\n");
}
