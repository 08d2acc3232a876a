import { functionsPublicUrl } from "../_shared/config/base.ts";
import { configOrExit } from "../_shared/config/read.ts";
import { webhookSourcesConfig } from "../_shared/config/webhook-sources.ts";
import { createRuntime, jwtKeysOf } from "../_shared/runtime.ts";
import { createWebhookSourcesHandler } from "./handler.ts";

const config = configOrExit("webhook-sources", webhookSourcesConfig, Deno.env.toObject(), Deno.exit);

Deno.serve(createWebhookSourcesHandler({
  ...createRuntime("webhook-sources", config),
  jwt: jwtKeysOf(config),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  // SUPABASE_URL is required, so there is always a URL.
  publicUrl: functionsPublicUrl(config)!,
}));
