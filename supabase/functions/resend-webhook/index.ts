import { readConfig } from "../_shared/config.ts";
import { createSql } from "../_shared/db.ts";
import { createLogger } from "../_shared/log.ts";
import { createSecurityLogger } from "../_shared/security-logger.ts";
import { createResendWebhookHandler } from "./handler.ts";

const config = readConfig(Deno.env.toObject());
const sql = createSql(config.SUPABASE_DB_URL, { applicationName: "resend-webhook", max: config.DB_POOL_MAX });

Deno.serve(createResendWebhookHandler({
  sql,
  secrets: config.RESEND_WEBHOOK_SECRET,
  maxBodyBytes: config.MAX_BODY_BYTES,
  logger: createLogger({ fn: "resend-webhook" }, { minLevel: config.LOG_LEVEL }),
  securityLogger: createSecurityLogger({
    sql,
    alertThreshold: config.SECURITY_ALERT_THRESHOLD,
    alertWindowSeconds: config.SECURITY_ALERT_WINDOW_SECONDS,
  }),
}));
