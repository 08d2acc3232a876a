import { configOrExit } from "../_shared/config/read.ts";
import { stripeWebhookConfig } from "../_shared/config/stripe-webhook.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createStripeWebhookHandler } from "./handler.ts";
import { mirroredTypes } from "../_shared/stripe-mirror.ts";

const config = configOrExit("stripe-webhook", stripeWebhookConfig, Deno.env.toObject(), Deno.exit);

Deno.serve(createStripeWebhookHandler({
  ...createRuntime("stripe-webhook", config),
  secrets: config.STRIPE_WEBHOOK_SECRET,
  mirrored: mirroredTypes(config.STRIPE_MIRROR),
}));
