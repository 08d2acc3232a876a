/** Where the dashboard finds the project: written next to index.html by the build or the local server. */
export interface DashboardConfig {
  /** The project's URL (`https://<ref>.supabase.co`), or "" for the dashboard's own origin (the local proxy). */
  url: string;
  /** The project's anon key: enables Supabase Auth sign-in for admins. */
  anonKey?: string;
}

/** Reads config.json; a missing or broken one is reported on the page, not swallowed. */
export async function loadConfig(): Promise<DashboardConfig> {
  const response = await fetch("./config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be read (${response.status}); build with npm run build:dashboard -- --url <project url>`);
  const config = (await response.json()) as DashboardConfig;
  return { url: (config.url ?? "").replace(/\/+$/, ""), anonKey: config.anonKey || undefined };
}
