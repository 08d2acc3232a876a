import { rmSync } from "node:fs";
import { join } from "node:path";
import { LOCAL_DIR } from "./paths.ts";
import { isPortFree } from "./ports.ts";
import { clusterDataDir } from "./postgres-access.ts";

// Wipes the local database and stack.env. The generated secrets stay, so keys configured
// elsewhere (a Stripe CLI forwarder, an app's .env) keep working after a reset.
if (!(await isPortFree(54322))) {
  console.error("The local stack seems to be running (port 54322 is in use). Stop it with Ctrl-C first.");
  process.exit(1);
}
const dataDir = join(LOCAL_DIR, "db");
for (const path of [clusterDataDir(dataDir), dataDir, join(LOCAL_DIR, "stack.env")]) {
  rmSync(path, { recursive: true, force: true });
}
console.log("Local data wiped. The next `npm start` creates a fresh database and applies migrations and seed.");
