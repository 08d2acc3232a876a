import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createDatabase, migrateDatabase } from "./database.ts";
import { discoverFunctions, type FunctionSpec, type ServedFunction, serveFunction } from "./functions.ts";
import { type GatewayRoute, startGateway } from "./gateway.ts";
import { FUNCTIONS_DIR } from "./paths.ts";
import { startEmbeddedPostgres } from "./postgres.ts";
import { startResendStandIn } from "../resend/server.ts";
import { loadOrCreateSecrets, signRoleKey } from "./secrets.ts";
import { type SupervisedFunction, superviseFunction } from "./supervisor.ts";
import { LOCAL_CRON_JOBS, startCron } from "./cron.ts";
import { startWakeups } from "./wakeups.ts";
import { affectedFunctions, newFunctions, watchFiles } from "./watch.ts";

/** The values a client of the stack needs; written to .local/stack.env. */
export interface StackEnv {
  SUPABASE_URL: string;
  DATABASE_URL: string;
  SUPABASE_DB_URL: string;
  SUPABASE_ANON_KEY: string;
  SUPABASE_SERVICE_ROLE_KEY: string;
  SUPABASE_JWT_SECRET: string;
  STRIPE_WEBHOOK_SECRET: string;
  RESEND_WEBHOOK_SECRET: string;
  /** The local Resend stand-in (inbox at its root). */
  RESEND_BASE_URL: string;
  RESEND_API_KEY: string;
  EMAIL_WAKEUP_SECRET: string;
  WEBHOOK_WAKEUP_SECRET: string;
  INBOUND_WAKEUP_SECRET: string;
}

/** Where and how to run the stack. */
export interface StackOptions {
  /** Folder for the embedded cluster and secrets (`.local` for npm start, a temp dir in tests). */
  localDir: string;
  gatewayPort: number;
  /** Port of the embedded Postgres; unused when `databaseUrl` is given. */
  dbPort: number;
  /** Port of the Resend stand-in. */
  mailPort: number;
  /** Run the local wake-ups (LISTEN/NOTIFY and the sweep timer) that drain the email queue. */
  wakeups?: { sweepSeconds: number };
  /** An existing Postgres (DATABASE_URL / TEST_DATABASE_URL) instead of the embedded one. */
  databaseUrl?: string;
  /** Create and use this fresh database inside the cluster (tests), instead of `postgres`. */
  freshDatabase?: string;
  /** Function settings from the caller's environment (LOG_LEVEL, MAX_BODY_BYTES...). */
  functionEnv?: Record<string, string>;
  /**
   * Reload a function when its files change, and keep the stack up when one cannot start
   * (npm start). Off by default: tests and benchmarks do not edit functions.
   */
  watch?: boolean;
  /** Where the functions are (default supabase/functions; tests serve a copy). */
  functionsDir?: string;
  log: (line: string) => void;
}

/** A running stack. */
export interface Stack {
  env: StackEnv;
  /** The cluster's admin URL (for creating and dropping databases). */
  adminUrl: string;
  /** The Deno processes serving now, one per function (benchmarks call them without the gateway). */
  functions: ServedFunction[];
  /** Serves one more instance of a function with changed settings (tests: a dead database). */
  serveExtra(name: string, overrides: Record<string, string>): Promise<ServedFunction>;
  stop(): Promise<void>;
}

/**
 * Starts Postgres, prepares it like a Supabase database, applies migrations and seed with
 * the Supabase CLI, serves every function under Deno, and puts the gateway in front.
 * `npm start` and the test suite both run exactly this.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { log } = options;
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch((error) => log(`stop: ${String(error)}`));
  };
  try {
    let adminUrl = options.databaseUrl;
    if (!adminUrl) {
      const pg = await startEmbeddedPostgres(join(options.localDir, "db"), options.dbPort, log);
      stops.push(pg.stop);
      adminUrl = pg.url;
    }
    const dbUrl = options.freshDatabase ? await createDatabase(adminUrl, options.freshDatabase) : adminUrl;
    await migrateDatabase(dbUrl, log);

    const secrets = loadOrCreateSecrets(join(options.localDir, "secrets.json"));
    // The gateway listens first (its routes fill in below), so its port is bound, even when
    // the OS picks it (0), before the URL that names it goes to the functions and the stand-in.
    const routes = new Map<string, GatewayRoute>();
    const gateway: Server = await startGateway(options.gatewayPort, () => routes, secrets.jwtSecret);
    stops.push(() => new Promise((resolve) => gateway.close(resolve)));
    const gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    const resendWebhookSecret = options.functionEnv?.RESEND_WEBHOOK_SECRET ?? secrets.resendWebhookSecret;
    const mail = await startResendStandIn({
      port: options.mailPort,
      webhook: { url: `${gatewayUrl}/functions/v1/resend-webhook`, secret: resendWebhookSecret.split(",")[0] },
      log: (line) => log(`[resend] ${line}`),
    });
    stops.push(() => mail.close());
    const env: StackEnv = {
      SUPABASE_URL: gatewayUrl,
      DATABASE_URL: dbUrl,
      SUPABASE_DB_URL: dbUrl,
      SUPABASE_ANON_KEY: await signRoleKey(secrets.jwtSecret, "anon"),
      SUPABASE_SERVICE_ROLE_KEY: await signRoleKey(secrets.jwtSecret, "service_role"),
      SUPABASE_JWT_SECRET: secrets.jwtSecret,
      STRIPE_WEBHOOK_SECRET: options.functionEnv?.STRIPE_WEBHOOK_SECRET ?? secrets.stripeWebhookSecret,
      RESEND_WEBHOOK_SECRET: resendWebhookSecret,
      RESEND_BASE_URL: mail.url,
      RESEND_API_KEY: secrets.resendApiKey,
      EMAIL_WAKEUP_SECRET: secrets.emailWakeupSecret,
      WEBHOOK_WAKEUP_SECRET: secrets.webhookWakeupSecret,
      INBOUND_WAKEUP_SECRET: secrets.inboundWakeupSecret,
    };
    // Partners' receivers in local development run on this machine: allow plain http and
    // loopback here (never in production, where the SSRF guard refuses both).
    // The same goes for the PayPal test certificate `npm run trigger -- paypal` serves.
    const localWebhookPolicy = {
      WEBHOOK_ALLOW_HTTP: "true",
      WEBHOOK_ALLOWED_HOSTS: "127.0.0.1,localhost,::1",
      PAYPAL_CERT_HOSTS: "127.0.0.1,localhost",
    };
    // An app in development is served from localhost on some port.
    const localBrowserPolicy = { CORS_ALLOWED_ORIGINS: "http://localhost:*,http://127.0.0.1:*" };
    const functionEnv = { ...localWebhookPolicy, ...localBrowserPolicy, ...options.functionEnv, ...env };

    const functionsDir = options.functionsDir ?? FUNCTIONS_DIR;
    const supervised = new Map<string, SupervisedFunction>();
    const supervise = async (spec: FunctionSpec) => {
      const fn = await superviseFunction({
        spec,
        routes,
        serve: () => serveFunction(spec.name, functionEnv, log, functionsDir),
        watch: options.watch ?? false,
        log,
      });
      supervised.set(spec.name, fn);
      stops.push(fn.stop);
    };
    const specs = discoverFunctions(functionsDir);
    log(`starting ${specs.length} function(s) under Deno: ${specs.map((s) => s.name).join(", ")}`);
    await Promise.all(specs.map(supervise));

    if (options.watch) {
      const watcher = watchFiles(functionsDir, async (files) => {
        const added = newFunctions(functionsDir, [...supervised.keys()], files);
        const fresh = discoverFunctions(functionsDir).filter((spec) => added.includes(spec.name));
        for (const spec of fresh) log(`[${spec.name}] new function folder: serving it`);
        const edited = files.filter((file) => !added.some((name) => file.startsWith(`${name}/`)));
        const affected = await affectedFunctions(functionsDir, [...supervised.keys()], edited);
        await Promise.all([
          ...fresh.map(supervise),
          ...[...affected].map(([name, its]) => supervised.get(name)!.reload(`edit of ${its.join(", ")}`)),
        ]);
      }, log);
      stops.push(async () => watcher.close());
      log(`watching ${functionsDir}: a function reloads when its files, or _shared files it imports, change`);
    }

    if (options.wakeups) {
      const wakeups = await startWakeups(dbUrl, [
        {
          channel: "email_queue",
          url: `${gatewayUrl}/functions/v1/email-service`,
          body: { action: "drain" },
          wakeupSecret: env.EMAIL_WAKEUP_SECRET,
        },
        {
          channel: "webhook_deliveries",
          url: `${gatewayUrl}/functions/v1/webhook-dispatcher`,
          body: { action: "dispatch" },
          wakeupSecret: env.WEBHOOK_WAKEUP_SECRET,
        },
        {
          channel: "webhook_events",
          url: `${gatewayUrl}/functions/v1/inbound-webhook`,
          body: { action: "process" },
          wakeupSecret: env.INBOUND_WAKEUP_SECRET,
        },
      ], options.wakeups.sweepSeconds, log);
      stops.push(() => wakeups.stop());
      const cron = startCron(dbUrl, LOCAL_CRON_JOBS, log);
      stops.push(() => cron.stop());
    }

    return {
      env,
      adminUrl,
      get functions() {
        return [...supervised.values()].flatMap((fn) => fn.current() ?? []);
      },
      async serveExtra(name, overrides) {
        const fn = await serveFunction(name, { ...functionEnv, ...overrides }, log, functionsDir);
        stops.push(fn.stop);
        return fn;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
