import { z } from "zod";
import { baseVariables, corsVariables, jwtVariables, serviceRoleVariables, webhookUrlVariables } from "./base.ts";

/** webhook-endpoints' variables: who may call it (and from which browser origins), and which partner URLs it accepts. */
export const webhookEndpointsConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...jwtVariables,
  ...corsVariables,
  ...webhookUrlVariables,
});

/** webhook-endpoints' settings. */
export type WebhookEndpointsConfig = z.infer<typeof webhookEndpointsConfig>;
