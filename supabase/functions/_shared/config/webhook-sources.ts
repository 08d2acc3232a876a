import { z } from "zod";
import { baseVariables, corsVariables, jwtVariables, publicUrlVariables, serviceRoleVariables } from "./base.ts";

/**
 * webhook-sources' variables: who may call it (and from which browser origins), and the public URL sources' URLs are built on
 * (SUPABASE_URL, which Supabase always sets, is required here: without it there is no URL to give).
 */
export const webhookSourcesConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  ...jwtVariables,
  ...corsVariables,
  ...publicUrlVariables,
  SUPABASE_URL: z.string().url(),
});

/** webhook-sources' settings. */
export type WebhookSourcesConfig = z.infer<typeof webhookSourcesConfig>;
