import { readConfig } from "../_shared/config.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createWebhookEndpointsHandler } from "./handler.ts";

const config = readConfig(Deno.env.toObject());

Deno.serve(createWebhookEndpointsHandler({
  ...createRuntime("webhook-endpoints", config),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  urlPolicy: { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS },
}));
