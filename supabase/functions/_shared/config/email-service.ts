import { z } from "zod";
import { baseVariables, serviceRoleVariables } from "./base.ts";

/** email-service's variables: Resend, the sender, who may call it, and the drain's pace. */
export const emailServiceConfig = z.object({
  ...baseVariables,
  ...serviceRoleVariables,
  RESEND_API_KEY: z.string(),
  RESEND_BASE_URL: z.string().url().default("https://api.resend.com"),
  EMAIL_FROM: z.string().min(3).default("Shop <no-reply@example.com>"),
  EMAIL_WAKEUP_SECRET: z.string().min(16).optional(),
  RESEND_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(5),
  EMAIL_BATCH_SIZE: z.coerce.number().int().min(1).max(100).default(100),
  EMAIL_LEASE_SECONDS: z.coerce.number().int().min(1).default(60),
  EMAIL_DRAIN_SECONDS: z.coerce.number().int().min(1).default(20),
  RESEND_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
});

/** email-service's settings. */
export type EmailServiceConfig = z.infer<typeof emailServiceConfig>;
