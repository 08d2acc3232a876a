import type { BaseConfig, JwtConfig } from "./config/base.ts";
import type { ClientIpPolicy } from "./http/client-ip.ts";
import type { JwtKeys } from "./http/jwt-verifier.ts";
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
export function createRuntime(name: string, config: BaseConfig): Runtime {
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

/** What callers' JWTs are verified against, for the functions that take them. */
export function jwtKeysOf(config: JwtConfig): JwtKeys {
  return {
    secret: config.SUPABASE_JWT_SECRET,
    // Supabase sets SUPABASE_URL in every function; its auth server publishes the JWKS there.
    jwksUrl: config.SUPABASE_JWKS_URL ??
      (config.SUPABASE_URL ? new URL("/auth/v1/.well-known/jwks.json", config.SUPABASE_URL).href : undefined),
  };
}
