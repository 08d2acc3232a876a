import { readConfig } from "../_shared/config.ts";
import { createSql } from "../_shared/db.ts";
import { createLogger } from "../_shared/log.ts";
import { createSecurityLogger } from "../_shared/security-logger.ts";
import { createEmailServiceHandler } from "./handler.ts";
import { createResendSender } from "./sender.ts";

const config = readConfig(Deno.env.toObject());
const sql = createSql(config.SUPABASE_DB_URL, { applicationName: "email-service", max: config.DB_POOL_MAX });

Deno.serve(createEmailServiceHandler({
  sql,
  send: createResendSender({
    apiKey: config.RESEND_API_KEY ?? "",
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
  maxBodyBytes: config.MAX_BODY_BYTES,
  logger: createLogger({ fn: "email-service" }, { minLevel: config.LOG_LEVEL }),
  securityLogger: createSecurityLogger({
    sql,
    alertThreshold: config.SECURITY_ALERT_THRESHOLD,
    alertWindowSeconds: config.SECURITY_ALERT_WINDOW_SECONDS,
  }),
}));
