import { z } from "zod";
import { cursorParamOf } from "../_shared/http/cursor.ts";
import { EVENT_STATUS, eventFilterFields } from "./filters.ts";

/** GET /operations/health and /metrics: the window in minutes (default an hour, at most a week). */
export const healthQuery = z.strictObject({
  window: z.coerce.number().int().min(1).max(7 * 24 * 60).default(60),
});

/** GET /operations/alerts. */
export const alertsQuery = z.strictObject({
  status: z.enum(["open", "acknowledged", "resolved"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A comma-separated query value (`failed,unmatched`) as a list of `item`s, one to `max`. */
function listOf<T extends z.ZodEnum<Record<string, string>>>(item: T, max: number) {
  return z.string().transform((value) => value.split(",").map((part) => part.trim()).filter(Boolean))
    .pipe(z.array(item).min(1).max(max));
}

/** Page size of the dashboard's lists: 1 to 100, 50 by default. */
const limit = z.coerce.number().int().min(1).max(100).default(50);

/** GET /operations/events: a bulk action's filter fields, a provider's event id, payload text, a page. */
export const eventsQuery = z.strictObject({
  ...eventFilterFields,
  status: listOf(EVENT_STATUS, 5).optional(),
  event_id: z.string().min(1).max(255).optional(),
  q: z.string().min(1).max(200).optional(),
  limit,
  cursor: cursorParamOf("bigint").optional(),
});

/** Email statuses, as email_queue keeps them. */
export const EMAIL_STATUS = z.enum([
  "pending",
  "sending",
  "sent",
  "delivered",
  "bounced",
  "complained",
  "failed",
  "dead",
  "suppressed",
  "canceled",
]);

/** GET /operations/emails: status (one or a comma-separated list), template, exact recipient, created-at range, a page. */
export const emailsQuery = z.strictObject({
  status: listOf(EMAIL_STATUS, 10).optional(),
  template: z.string().min(1).max(200).optional(),
  recipient: z.string().min(1).max(320).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  limit,
  cursor: cursorParamOf("uuid").optional(),
});

/** The most buckets one series answer has: a chart is a few hundred pixels wide. */
export const MAX_BUCKETS = 2000;

/** GET /operations/series: window and bucket in minutes (default a day of hours, at most 30 days), one component. */
export const seriesQuery = z.strictObject({
  window: z.coerce.number().int().min(1).max(30 * 24 * 60).default(24 * 60),
  bucket: z.coerce.number().int().min(1).max(24 * 60).default(60),
  component: z.string().regex(/^(stripe|resend|source:[0-9a-f-]{36})$/).optional(),
}).refine((q) => Math.ceil(q.window / q.bucket) <= MAX_BUCKETS, {
  message: `window / bucket must be at most ${MAX_BUCKETS} buckets`,
  path: ["bucket"],
});
