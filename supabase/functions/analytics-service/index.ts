import { analyticsServiceConfig } from "../_shared/config/analytics-service.ts";
import { configOrExit } from "../_shared/config/read.ts";
import { createIpHasher } from "../_shared/ip-hash.ts";
import { perMinute } from "../_shared/rate-limit.ts";
import { createRuntime, jwtKeysOf } from "../_shared/runtime.ts";
import { customEventAllowlist } from "./event-name.ts";
import { createAnalyticsServiceHandler } from "./handler.ts";

const config = configOrExit("analytics-service", analyticsServiceConfig, Deno.env.toObject(), Deno.exit);
const runtime = createRuntime("analytics-service", config);

Deno.serve(createAnalyticsServiceHandler({
  ...runtime,
  jwt: jwtKeysOf(config),
  anonymizeIp: createIpHasher(runtime.sql),
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  perIp: perMinute(config.ANALYTICS_IP_LIMIT_PER_MINUTE),
  customEvents: customEventAllowlist(config.ANALYTICS_CUSTOM_EVENTS),
}));
