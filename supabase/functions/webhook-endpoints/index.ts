import { configOrExit } from "../_shared/config/read.ts";
import { webhookEndpointsConfig } from "../_shared/config/webhook-endpoints.ts";
import { createRuntime, jwtKeysOf } from "../_shared/runtime.ts";
import { createWebhookEndpointsHandler } from "./handler.ts";

const config = configOrExit("webhook-endpoints", webhookEndpointsConfig, Deno.env.toObject(), Deno.exit);

Deno.serve(createWebhookEndpointsHandler({
  ...createRuntime("webhook-endpoints", config),
  jwt: jwtKeysOf(config),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  urlPolicy: { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS },
}));
