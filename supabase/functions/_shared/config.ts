import { z } from "zod";
import { DEFAULT_MAX_BODY_BYTES } from "./http/body.ts";

const list = z
  .string()
  .optional()
  .transform((value) => (value ?? "").split(",").map((item) => item.trim()).filter(Boolean));

const schema = z.object({
  SUPABASE_DB_URL: z.string().url(),
  STRIPE_WEBHOOK_SECRET: list,
  RESEND_WEBHOOK_SECRET: list,
  SUPABASE_SERVICE_ROLE_KEY: z.string().optional(),
  RESEND_API_KEY: z.string().optional(),
  RESEND_BASE_URL: z.string().url().default("https://api.resend.com"),
  EMAIL_FROM: z.string().min(3).default("Shop <no-reply@example.com>"),
  EMAIL_WAKEUP_SECRET: z.string().min(16).optional(),
  RESEND_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(5),
  EMAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  EMAIL_LEASE_SECONDS: z.coerce.number().int().min(1).default(60),
  EMAIL_DRAIN_SECONDS: z.coerce.number().int().min(1).default(20),
  RESEND_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  SUPABASE_JWT_SECRET: z.string().min(16).optional(),
  SUPABASE_URL: z.string().url().optional(),
  SUPABASE_JWKS_URL: z.string().url().optional(),
  WEBHOOK_ALLOW_HTTP: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
  WEBHOOK_ALLOWED_HOSTS: list,
  WEBHOOK_WAKEUP_SECRET: z.string().min(16).optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
  WEBHOOK_CIRCUIT_THRESHOLD: z.coerce.number().int().min(1).default(5),
  WEBHOOK_CIRCUIT_COOLDOWN_SECONDS: z.coerce.number().int().min(1).default(60),
  WEBHOOK_LEASE_SECONDS: z.coerce.number().int().min(1).default(60),
  WEBHOOK_DISPATCH_SECONDS: z.coerce.number().int().min(1).default(20),
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  CLIENT_IP_HEADER: z.string().regex(/^[a-z0-9-]+$/i).default("x-forwarded-for").transform((h) => h.toLowerCase()),
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  CORS_ALLOWED_ORIGINS: list,
  SHARE_DEDUP_WINDOW_SECONDS: z.coerce.number().int().min(1).default(1800),
  SHARE_IP_LIMIT_PER_MINUTE: z.coerce.number().positive().default(60),
  SHARE_SESSION_LIMIT_PER_MINUTE: z.coerce.number().positive().default(20),
  ANALYTICS_IP_LIMIT_PER_MINUTE: z.coerce.number().positive().default(600),
  ANALYTICS_CUSTOM_EVENTS: list,
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(100).default(10),
  SECURITY_ALERT_THRESHOLD: z.coerce.number().int().min(1).default(20),
  SECURITY_ALERT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

/** Every setting a function reads, validated once at start-up. */
export type Config = z.infer<typeof schema>;

/**
 * Reads the configuration from an environment object (`Deno.env.toObject()` at the edge,
 * a plain object in tests) and fails fast, naming each bad variable but never its value.
 */
export function readConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "not set": `MAX_BODY_BYTES=` in a .env file gets the default.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const result = schema.safeParse(given);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
