import { z } from "zod";
import { baseVariables, list, publicUrlVariables, serviceRoleVariables, webhookUrlVariables } from "./base.ts";

/**
 * inbound-webhook's variables: where providers reach it (Twilio signs that URL), who may wake
 * its async batches, how long a source's settings are reused, and where PayPal certificates
 * may come from (fetched through the SSRF guard, hence the webhook URL policy).
 */
export const inboundWebhookConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...publicUrlVariables,
  ...webhookUrlVariables,
  INBOUND_WAKEUP_SECRET: z.string().min(16).optional(),
  INBOUND_SOURCE_CACHE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  INBOUND_BATCH_LIMIT: z.coerce.number().int().min(1).max(10_000).default(500),
  INBOUND_PROCESS_SECONDS: z.coerce.number().int().min(1).default(20),
  PAYPAL_CERT_HOSTS: list,
});

/** inbound-webhook's settings. */
export type InboundWebhookConfig = z.infer<typeof inboundWebhookConfig>;
