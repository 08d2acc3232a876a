import { mkdirSync, writeFileSync } from "node:fs";
import { exitInOneLine } from "./exit-in-one-line.ts";
import { join } from "node:path";
import { LOCAL_DIR } from "./paths.ts";
import { preflight } from "./preflight.ts";
import { formatSpan, otelEnv, startSpanReceiver } from "./span-printer.ts";
import { startStack, type StackEnv } from "./stack.ts";
import { buildDashboard } from "../dashboard/build.ts";
import { serveDashboard } from "../dashboard/serve.ts";

/** Fixed local addresses, as `supabase start` uses them. */
const GATEWAY_PORT = 54321;
const DB_PORT = 54322;
const MAIL_PORT = 54324;
const DASHBOARD_PORT = 54323;

// Function settings a developer may set in the shell when starting the stack.
const PASSTHROUGH = [
  "STRIPE_WEBHOOK_SECRET",
  "LOG_LEVEL",
  "MAX_BODY_BYTES",
  "DB_POOL_MAX",
  "SECURITY_ALERT_THRESHOLD",
  "SECURITY_ALERT_WINDOW_SECONDS",
  "EMAIL_FROM",
  "RESEND_RATE_LIMIT_PER_SECOND",
  "CORS_ALLOWED_ORIGINS",
  "CLIENT_IP_HEADER",
  "TRUSTED_PROXY_HOPS",
  "SHARE_DEDUP_WINDOW_SECONDS",
  "SHARE_IP_LIMIT_PER_MINUTE",
  "SHARE_SESSION_LIMIT_PER_MINUTE",
  "ANALYTICS_IP_LIMIT_PER_MINUTE",
];

function envFile(env: StackEnv): string {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`).join("\n") + "\n";
}

async function main() {
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const databaseUrl = process.env.DATABASE_URL || undefined;
  await preflight({
    databaseUrl,
    ports: [
      [GATEWAY_PORT, "functions gateway"],
      ...(databaseUrl ? [] : [[DB_PORT, "Postgres"] as [number, string]]),
      [MAIL_PORT, "Resend stand-in"],
      [DASHBOARD_PORT, "operator dashboard"],
    ],
  });

  const functionEnv = Object.fromEntries(
    PASSTHROUGH.filter((key) => process.env[key]).map((key) => [key, process.env[key] as string]),
  );
  // `npm start -- --otel` (or OTEL_DENO=true): every function exports its spans to a local
  // receiver that prints them, one line each.
  const spanReceiver = process.argv.includes("--otel") || process.env.OTEL_DENO === "true"
    ? await startSpanReceiver((span) => log(formatSpan(span)))
    : null;
  if (spanReceiver) Object.assign(functionEnv, otelEnv(spanReceiver.endpoint));
  const stack = await startStack({
    localDir: LOCAL_DIR,
    gatewayPort: GATEWAY_PORT,
    dbPort: DB_PORT,
    mailPort: MAIL_PORT,
    wakeups: { sweepSeconds: Number(process.env.EMAIL_SWEEP_SECONDS ?? 10) },
    databaseUrl,
    functionEnv,
    watch: true,
    log,
  });

  // The dashboard is built once per start (a few seconds) and served with the API proxied
  // behind it; a build that fails is reported and leaves the rest of the stack running.
  const dashboardDir = join(LOCAL_DIR, "dashboard");
  const dashboard = await buildDashboard(dashboardDir, { url: "" })
    .then(() => serveDashboard(dashboardDir, DASHBOARD_PORT, stack.env.SUPABASE_URL))
    .catch((error) => {
      log(`[dashboard] not served: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    });

  mkdirSync(LOCAL_DIR, { recursive: true });
  const file = join(LOCAL_DIR, "stack.env");
  writeFileSync(file, envFile(stack.env), { mode: 0o600 });
  console.log(`\nLocal stack is running. Functions: ${stack.env.SUPABASE_URL}/functions/v1/<name>`);
  console.log(`Mail inbox (Resend stand-in): ${stack.env.RESEND_BASE_URL}`);
  if (dashboard) console.log(`Operator dashboard: ${dashboard.url} (sign in with SUPABASE_SERVICE_ROLE_KEY, or npm run admin-token)`);
  console.log(`Written to ${file}:\n`);
  console.log(envFile(stack.env));
  if (spanReceiver) console.log(`Tracing on: spans print here (OTLP receiver at ${spanReceiver.endpoint}).`);
  console.log("Press Ctrl-C to stop.");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping functions, gateway and Postgres...`);
    await dashboard?.close();
    await stack.stop();
    await spanReceiver?.stop();
    log("stopped.");
    process.exit(0);
  };
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  // `kill <npm's pid>` (a process manager, a test harness) ends npm and its shell but never
  // reaches this process: it would keep every port. Being orphaned is the signal then.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && void shutdown("npm exited"), 500).unref();
}

main().catch((error) => exitInOneLine("npm start", error));
