import { functionsPublicUrl } from "../_shared/config/base.ts";
import { inboundWebhookConfig } from "../_shared/config/inbound-webhook.ts";
import { configOrExit } from "../_shared/config/read.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { paypalCertificates } from "../_shared/webhook-verify/paypal.ts";
import { createVerifiers } from "../_shared/webhook-verify/verifiers.ts";
import { createInboundWebhookHandler } from "./handler.ts";
import { sourceCache } from "./sources.ts";

const config = configOrExit("inbound-webhook", inboundWebhookConfig, Deno.env.toObject(), Deno.exit);
const runtime = createRuntime("inbound-webhook", config);
const policy = { allowHttp: config.WEBHOOK_ALLOW_HTTP, allowedHosts: config.WEBHOOK_ALLOWED_HOSTS };

Deno.serve(createInboundWebhookHandler({
  ...runtime,
  sources: sourceCache(runtime.sql, config.INBOUND_SOURCE_CACHE_SECONDS),
  verifiers: createVerifiers({
    paypalCertificate: paypalCertificates({ extraHosts: config.PAYPAL_CERT_HOSTS, policy }),
  }),
  publicUrl: functionsPublicUrl(config),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  wakeupSecret: config.INBOUND_WAKEUP_SECRET,
  batchLimit: config.INBOUND_BATCH_LIMIT,
  budgetMs: config.INBOUND_PROCESS_SECONDS * 1000,
}));
