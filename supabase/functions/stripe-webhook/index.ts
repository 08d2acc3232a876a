import { readConfig } from "../_shared/config.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createStripeWebhookHandler } from "./handler.ts";

const config = readConfig(Deno.env.toObject());

Deno.serve(createStripeWebhookHandler({
  ...createRuntime("stripe-webhook", config),
  secrets: config.STRIPE_WEBHOOK_SECRET,
}));
