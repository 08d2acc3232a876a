import { operationsConfig } from "../_shared/config/operations.ts";
import { configOrExit } from "../_shared/config/read.ts";
import { createRuntime, jwtKeysOf } from "../_shared/runtime.ts";
import { createOperationsHandler } from "./handler.ts";
import { healthCache } from "./health.ts";
import { mirroredTypes } from "../_shared/stripe-mirror.ts";

const config = configOrExit("operations", operationsConfig, Deno.env.toObject(), Deno.exit);
const runtime = createRuntime("operations", config);

Deno.serve(createOperationsHandler({
  ...runtime,
  jwt: jwtKeysOf(config),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  cors: { allowedOrigins: config.CORS_ALLOWED_ORIGINS },
  health: healthCache(runtime.sql, config.OPS_HEALTH_CACHE_SECONDS),
  stripeMirrored: mirroredTypes(config.STRIPE_MIRROR),
}));
