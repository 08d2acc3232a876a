import { emailServiceConfig } from "../_shared/config/email-service.ts";
import { configOrExit } from "../_shared/config/read.ts";
import { createRuntime } from "../_shared/runtime.ts";
import { createEmailServiceHandler } from "./handler.ts";
import { createResendSender } from "./sender.ts";

const config = configOrExit("email-service", emailServiceConfig, Deno.env.toObject(), Deno.exit);

Deno.serve(createEmailServiceHandler({
  ...createRuntime("email-service", config),
  send: createResendSender({
    apiKey: config.RESEND_API_KEY,
    baseUrl: config.RESEND_BASE_URL,
    timeoutMs: config.RESEND_TIMEOUT_MS,
  }),
  serviceRoleKey: config.SUPABASE_SERVICE_ROLE_KEY,
  wakeupSecret: config.EMAIL_WAKEUP_SECRET,
  from: config.EMAIL_FROM,
  providerRatePerSecond: config.RESEND_RATE_LIMIT_PER_SECOND,
  batchSize: config.EMAIL_BATCH_SIZE,
  leaseSeconds: config.EMAIL_LEASE_SECONDS,
  drainBudgetMs: config.EMAIL_DRAIN_SECONDS * 1000,
}));
