import { z } from "zod";
import { baseVariables, corsVariables, jwtVariables, list, serviceRoleVariables } from "./base.ts";

/** analytics-service's variables: browsers' origins and sessions, who reads metrics, ingest limits. */
export const analyticsServiceConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...jwtVariables,
  ...corsVariables,
  ANALYTICS_IP_LIMIT_PER_MINUTE: z.coerce.number().positive().default(600),
  ANALYTICS_CUSTOM_EVENTS: list,
});

/** analytics-service's settings. */
export type AnalyticsServiceConfig = z.infer<typeof analyticsServiceConfig>;
