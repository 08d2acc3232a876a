import { configOrExit } from "../_shared/config/read.ts";
import { resendWebhookConfig } from "../_shared/config/resend-webhook.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createResendWebhookHandler } from "./handler.ts";

const config = configOrExit("resend-webhook", resendWebhookConfig, Deno.env.toObject(), Deno.exit);

Deno.serve(createResendWebhookHandler({
  ...createRuntime("resend-webhook", config),
  secrets: config.RESEND_WEBHOOK_SECRET,
}));
