import { z } from "zod";
import { baseVariables, serviceRoleVariables, webhookUrlVariables } from "./base.ts";

/** webhook-dispatcher's variables: who may wake it, where it may deliver, and its pace. */
export const webhookDispatcherConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...webhookUrlVariables,
  WEBHOOK_WAKEUP_SECRET: z.string().min(16).optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  // Unset, the delivery policy in SQL decides (webhook_delivery_policy()).
  WEBHOOK_CIRCUIT_THRESHOLD: z.coerce.number().int().min(1).optional(),
  WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: z.coerce.number().int().min(1).default(60),
  WEBHOOK_LEASE_SECONDS: z.coerce.number().int().min(1).default(60),
  WEBHOOK_DISPATCH_SECONDS: z.coerce.number().int().min(1).default(20),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
});

/** webhook-dispatcher's settings. */
export type WebhookDispatcherConfig = z.infer<typeof webhookDispatcherConfig>;
