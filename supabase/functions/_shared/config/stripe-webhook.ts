import { z } from "zod";
import { baseVariables, requiredList } from "./base.ts";

/** stripe-webhook's variables: its endpoint secrets, several while one is rolled. */
export const stripeWebhookConfig = z.object({ ...baseVariables, STRIPE_WEBHOOK_SECRET: requiredList });

/** stripe-webhook's settings. */
export type StripeWebhookConfig = z.infer<typeof stripeWebhookConfig>;
