import { z } from "zod";

/** GET /operations/health and /metrics: the window in minutes (default an hour, at most a week). */
export const healthQuery = z.strictObject({
  window: z.coerce.number().int().min(1).max(7 * 24 * 60).default(60),
});

/** GET /operations/alerts. */
export const alertsQuery = z.strictObject({
  status: z.enum(["open", "acknowledged", "resolved"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
