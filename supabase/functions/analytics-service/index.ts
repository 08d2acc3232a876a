import { readConfig } from "../_shared/config.ts";
import { createIpHasher } from "../_shared/ip-hash.ts";
import { perMinute } from "../_shared/rate-limit.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { customEventAllowlist } from "./event-name.ts";
import { createAnalyticsServiceHandler } from "./handler.ts";

const config = readConfig(Deno.env.toObject());
const runtime = createRuntime("analytics-service", config);

Deno.serve(createAnalyticsServiceHandler({
  ...runtime,
  anonymizeIp: createIpHasher(runtime.sql),
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  perIp: perMinute(config.ANALYTICS_IP_LIMIT_PER_MINUTE),
  customEvents: customEventAllowlist(config.ANALYTICS_CUSTOM_EVENTS),
}));
