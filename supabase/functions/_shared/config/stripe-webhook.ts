import { z } from "zod";
import { stripeMirrorVariable } from "../stripe-mirror.ts";
import { baseVariables, requiredList } from "./base.ts";

/** stripe-webhook's variables: its endpoint secrets, several while one is rolled, and what it mirrors. */
export const stripeWebhookConfig = z.object({
  ...baseVariables,
  STRIPE_WEBHOOK_SECRET: requiredList,
  STRIPE_MIRROR: stripeMirrorVariable,
});

/** stripe-webhook's settings. */
export type StripeWebhookConfig = z.infer<typeof stripeWebhookConfig>;
