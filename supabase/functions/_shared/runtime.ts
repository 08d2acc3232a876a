import type { Config } from "./config.ts";
import type { ClientIpPolicy } from "./http/client-ip.ts";
import { createSql, type Sql } from "./db.ts";
import { createLogger, type Logger } from "./log.ts";
import { createSecurityLogger, type SecurityLogger } from "./security-logger.ts";

/** What every function's handler is built from. */
export interface Runtime {
  sql: Sql;
  logger: Logger;
  securityLogger: SecurityLogger;
  maxBodyBytes: number;
  clientIp: ClientIpPolicy;
}

/** The database pool, logger and securityLogger of function `name`, from its configuration. */
export function createRuntime(name: string, config: Config): Runtime {
  const sql = createSql(config.SUPABASE_DB_URL, { applicationName: name, max: config.DB_POOL_MAX });
  return {
    sql,
    logger: createLogger({ fn: name }, { minLevel: config.LOG_LEVEL }),
    securityLogger: createSecurityLogger({
      sql,
      alertThreshold: config.SECURITY_ALERT_THRESHOLD,
      alertWindowSeconds: config.SECURITY_ALERT_WINDOW_SECONDS,
    }),
    maxBodyBytes: config.MAX_BODY_BYTES,
    clientIp: { header: config.CLIENT_IP_HEADER, trustedHops: config.TRUSTED_PROXY_HOPS },
  };
}
