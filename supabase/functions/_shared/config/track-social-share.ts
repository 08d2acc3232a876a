import { z } from "zod";
import { baseVariables, corsVariables, jwtVariables } from "./base.ts";

/** track-social-share's variables: browsers' origins and sessions, dedup window and limits. */
export const trackSocialShareConfig = z.object({
  ...baseVariables,
  ...jwtVariables,
  ...corsVariables,
  SHARE_DEDUP_WINDOW_SECONDS: z.coerce.number().int().min(1).default(1800),
  SHARE_IP_LIMIT_PER_MINUTE: z.coerce.number().positive().default(60),
  SHARE_SESSION_LIMIT_PER_MINUTE: z.coerce.number().positive().default(20),
});

/** track-social-share's settings. */
export type TrackSocialShareConfig = z.infer<typeof trackSocialShareConfig>;
