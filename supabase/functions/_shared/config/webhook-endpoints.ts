import { z } from "zod";
import { baseVariables, jwtVariables, serviceRoleVariables, webhookUrlVariables } from "./base.ts";

/** webhook-endpoints' variables: who may call it, and which partner URLs it accepts. */
export const webhookEndpointsConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...jwtVariables,
  ...webhookUrlVariables,
});

/** webhook-endpoints' settings. */
export type WebhookEndpointsConfig = z.infer<typeof webhookEndpointsConfig>;
