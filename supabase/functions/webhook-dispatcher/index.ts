import { configOrExit } from "../_shared/config/read.ts";
import { webhookDispatcherConfig } from "../_shared/config/webhook-dispatcher.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { checkWebhookUrl, systemResolver } from "../_shared/ssrf.ts";
import { createDispatcherHandler } from "./handler.ts";

const config = configOrExit("webhook-dispatcher", webhookDispatcherConfig, Deno.env.toObject(), Deno.exit);
const policy = { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS };

Deno.serve(createDispatcherHandler({
  ...createRuntime("webhook-dispatcher", config),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  wakeupSecret: config.WEBHOOK_WAKEUP_SECRET,
  checkUrl: (url) => checkWebhookUrl(url, policy, systemResolver),
  leaseSeconds: config.WEBHOOK_LEASE_SECONDS,
  cooldownSeconds: config.WEBHOOK_CIRCUIT_COOLDOWN_SECONDS,
  circuitThreshold: config.WEBHOOK_CIRCUIT_THRESHOLD,
  timeoutMs: config.WEBHOOK_TIMEOUT_MS,
  concurrency: config.WEBHOOK_CONCURRENCY,
  budgetMs: config.WEBHOOK_DISPATCH_SECONDS * 1000,
}));
