import { readConfig } from "../_shared/config.ts";
import { createIpHasher } from "../_shared/ip-hash.ts";
import { perMinute } from "../_shared/rate-limit.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createTrackSocialShareHandler } from "./handler.ts";

const config = readConfig(Deno.env.toObject());
const runtime = createRuntime("track-social-share", config);

Deno.serve(createTrackSocialShareHandler({
  ...runtime,
  anonymizeIp: createIpHasher(runtime.sql),
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  dedupWindowSeconds: config.SHARE_DEDUP_WINDOW_SECONDS,
  perIp: perMinute(config.SHARE_IP_LIMIT_PER_MINUTE),
  perSession: perMinute(config.SHARE_SESSION_LIMIT_PER_MINUTE),
}));
