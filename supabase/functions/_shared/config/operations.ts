import { z } from "zod";
import { stripeMirrorVariable } from "../stripe-mirror.ts";
import { baseVariables, corsVariables, jwtVariables, serviceRoleVariables } from "./base.ts";

/** operations' variables: who may call it (and from which browser origins), and how long a computed health is reused. */
export const operationsConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...jwtVariables,
  ...corsVariables,
  OPS_HEALTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  // Reprocessing a Stripe event writes the mirror exactly as stripe-webhook does.
  STRIPE_MIRROR: stripeMirrorVariable,
});

/** operations' settings. */
export type OperationsConfig = z.infer<typeof operationsConfig>;
