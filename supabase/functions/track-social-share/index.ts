import { configOrExit } from "../_shared/config/read.ts";
import { trackSocialShareConfig } from "../_shared/config/track-social-share.ts";
import { createIpHasher } from "../_shared/ip-hash.ts";
import { perMinute } from "../_shared/rate-limit.ts";
import { createRuntime, jwtKeysOf } from "../_shared/runtime.ts";
import { createTrackSocialShareHandler } from "./handler.ts";

const config = configOrExit("track-social-share", trackSocialShareConfig, Deno.env.toObject(), Deno.exit);
const runtime = createRuntime("track-social-share", config);

Deno.serve(createTrackSocialShareHandler({
  ...runtime,
  jwt: jwtKeysOf(config),
  anonymizeIp: createIpHasher(runtime.sql),
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  dedupWindowSeconds: config.SHARE_DEDUP_WINDOW_SECONDS,
  perIp: perMinute(config.SHARE_IP_LIMIT_PER_MINUTE),
  perSession: perMinute(config.SHARE_SESSION_LIMIT_PER_MINUTE),
}));
