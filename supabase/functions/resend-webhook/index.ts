import { readConfig } from "../_shared/config.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createResendWebhookHandler } from "./handler.ts";

const config = readConfig(Deno.env.toObject());

Deno.serve(createResendWebhookHandler({
  ...createRuntime("resend-webhook", config),
  secrets: config.RESEND_WEBHOOK_SECRET,
}));
