import { z } from "zod";
import { DEFAULT_MAX_BODY_BYTES } from "../http/body.ts";

const split = (value: string | undefined) => (value ?? "").split(",").map((item) => item.trim()).filter(Boolean);

/** A comma-separated variable as a trimmed list without empty entries; unset is `[]`. */
export const list = z.string().optional().transform(split);

/** A comma-separated list that must name at least one entry: a function's own secrets. */
export const requiredList = z.string().transform(split).refine((items) => items.length > 0, "names no value");

/** The variables every function reads: its database, logs, security alerts, body limit and client address. */
export const baseVariables = {
  SUPABASE_DB_URL: z.string().url(),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  SECURITY_ALERT_THRESHOLD: z.coerce.number().int().min(1).default(20),
  SECURITY_ALERT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  CLIENT_IP_HEADER: z.string().regex(/^[a-z0-9-]+$/i).default("x-forwarded-for").transform((h) => h.toLowerCase()),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
};

/** The settings every function has: what its runtime is built from (see createRuntime). */
export type BaseConfig = z.infer<z.ZodObject<typeof baseVariables>>;

/** The variables of the functions that verify callers' JWTs (see jwtKeysOf). */
export const jwtVariables = {
  SUPABASE_JWT_SECRET: z.string().min(16).optional(),
  SUPABASE_URL: z.string().url().optional(),
  SUPABASE_JWKS_URL: z.string().url().optional(),
};

/** The settings of a function that verifies callers' JWTs. */
export type JwtConfig = z.infer<z.ZodObject<typeof jwtVariables>>;

/** The key whose holders act for the platform: drain and send, dispatch, every tenant's endpoints, metrics. */
export const serviceRoleVariables = { SUPABASE_SERVICE_ROLE_KEY: z.string().optional() };

/** What the SSRF guard lets through, for the functions that register or deliver to partners' URLs. */
export const webhookUrlVariables = {
  WEBHOOK_ALLOW_HTTP: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  WEBHOOK_ALLOWED_HOSTS: list,
};

/** The origins whose pages may call the browser-facing functions and the admin APIs (the dashboard). */
export const corsVariables = { CORS_ALLOWED_ORIGINS: list };

/**
 * Where providers reach the functions: the public base URL (`https://<ref>.supabase.co/functions/v1`),
 * by default `$SUPABASE_URL/functions/v1`. A source's URL is built from it, and Twilio signs
 * the URL it called, which behind the gateway is not the one the function sees.
 */
export const publicUrlVariables = {
  SUPABASE_URL: z.string().url().optional(),
  FUNCTIONS_PUBLIC_URL: z.string().url().optional(),
};

/** The public base URL of the functions, without a trailing slash, or null when neither variable is set. */
export function functionsPublicUrl(config: { SUPABASE_URL?: string; FUNCTIONS_PUBLIC_URL?: string }): string | null {
  const base = config.FUNCTIONS_PUBLIC_URL ??
    (config.SUPABASE_URL ? `${config.SUPABASE_URL.replace(/\/+$/, "")}/functions/v1` : null);
  return base ? base.replace(/\/+$/, "") : null;
}
