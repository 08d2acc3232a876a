import * as v from "valibot";
import { z } from "zod";
import type { Sql } from "../_shared/db.ts";
import { contentTypeSchema } from "../_shared/tracking/fields.ts";
import { zodFromValibot } from "../_shared/tracking/zod-bridge.ts";
import { eventNameSchema } from "./schema.ts";

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
// Bounds keep every answer small: 31 days of hours is 744 buckets per event.
const MAX_RANGE_MS = { hour: 31 * DAY_MS, day: 400 * DAY_MS } as const;

type Interval = keyof typeof MAX_RANGE_MS;

const instant = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

const eventList = (min: number, max: number) =>
  z.string().transform((value, ctx) => {
    const names: string[] = [];
    for (const raw of value.split(",")) {
      const parsed = v.safeParse(eventNameSchema, raw);
      if (!parsed.success) {
        ctx.addIssue({ code: "custom", message: `Not an event name: ${raw.slice(0, 100)}` });
        return z.NEVER;
      }
      names.push(parsed.output.name);
    }
    if (names.length < min || names.length > max) {
      ctx.addIssue({ code: "custom", message: `Name ${min} to ${max} events, comma-separated` });
      return z.NEVER;
    }
    return names;
  });

/** Rounds [from, to) outward to whole buckets, and refuses ranges that are empty or too long. */
function range<T extends { from: Date; to: Date; interval: Interval }>(shape: z.ZodType<T>) {
  return shape.transform((query, ctx) => {
    const size = query.interval === "hour" ? HOUR_MS : DAY_MS;
    const from = new Date(Math.floor(query.from.getTime() / size) * size);
    const to = new Date(Math.ceil(query.to.getTime() / size) * size);
    if (query.to <= query.from) {
      ctx.addIssue({ code: "custom", path: ["to"], message: "to must be after from" });
      return z.NEVER;
    }
    if (to.getTime() - from.getTime() > MAX_RANGE_MS[query.interval]) {
      ctx.addIssue({ code: "custom", path: ["to"], message: `At most ${MAX_RANGE_MS[query.interval] / DAY_MS} days` });
      return z.NEVER;
    }
    return { ...query, from, to };
  });
}

const interval = z.enum(["hour", "day"]).default("day");

/** GET /metrics/events: events and unique sessions per event and bucket. */
export const eventsQuery = range(
  z.strictObject({ from: instant, to: instant, interval, events: eventList(1, 20).optional() }),
);

/** GET /metrics/shares: shares per platform. */
export const sharesQuery = range(z.strictObject({ from: instant, to: instant, interval }));

/** GET /metrics/top-content: the content with the most events of one name (shares by default), by UTC day. */
export const topContentQuery = range(
  z.strictObject({
    from: instant,
    to: instant,
    interval: z.literal("day").default("day"),
    // The shared tracking schemas are valibot (the browser client bundles them), bridged.
    event: zodFromValibot(eventNameSchema).default({ name: "share", custom: false }),
    content_type: zodFromValibot(contentTypeSchema).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(10),
  }),
);

/** GET /metrics/funnel: sessions reaching each step, in order, by first occurrence. */
export const funnelQuery = range(
  z.strictObject({ from: instant, to: instant, interval: z.literal("hour").default("hour"), steps: eventList(2, 8) })
    .refine((query) => new Set(query.steps).size === query.steps.length, {
      path: ["steps"],
      message: "Each step must be a different event",
    }),
);

const period = (query: { from: Date; to: Date }) => ({ from: query.from.toISOString(), to: query.to.toISOString() });

/** Counts per bucket; buckets without events are absent. */
export async function eventCounts(sql: Sql, query: z.output<typeof eventsQuery>) {
  const rows = await sql<{ bucket: Date; event_name: string; events: string; sessions: string }[]>`
    select * from public.analytics_event_counts(${query.interval}, ${query.from}, ${query.to}, ${
    query.events ?? null
  })`;
  return {
    ...period(query),
    interval: query.interval,
    buckets: rows.map((row) => ({
      bucket: row.bucket.toISOString(),
      event: row.event_name,
      count: Number(row.events),
      unique_sessions: Number(row.sessions),
    })),
  };
}

/** Shares and sharing sessions per platform, most shared first. */
export async function shareCounts(sql: Sql, query: z.output<typeof sharesQuery>) {
  const rows = await sql<{ platform: string; shares: string; sessions: string }[]>`
    select * from public.analytics_share_counts(${query.interval}, ${query.from}, ${query.to})`;
  return {
    ...period(query),
    platforms: rows.map((row) => ({ platform: row.platform, count: Number(row.shares) })),
  };
}

/** The `limit` items with the most events. */
export async function topContent(sql: Sql, query: z.output<typeof topContentQuery>) {
  const rows = await sql<{ content_type: string; content_id: string; events: string }[]>`
    select * from public.analytics_top_content(
      ${query.event.name}, ${query.from}, ${query.to}, ${query.content_type ?? null}, ${query.limit})`;
  return {
    ...period(query),
    event: query.event.name,
    items: rows.map((row) => ({
      content_type: row.content_type,
      content_id: row.content_id,
      count: Number(row.events),
    })),
  };
}

/** Sessions per step, with conversion from the previous step and from the first. */
export async function funnel(sql: Sql, query: z.output<typeof funnelQuery>) {
  const rows = await sql<{ step: number; sessions: string }[]>`
    select * from public.analytics_funnel(${query.steps}, ${query.from}, ${query.to})`;
  const counts = rows.map((row) => Number(row.sessions));
  const ratio = (part: number, whole: number) => (whole === 0 ? 0 : Math.round((part / whole) * 10_000) / 10_000);
  return {
    ...period(query),
    steps: query.steps.map((event, index) => ({
      event,
      sessions: counts[index],
      conversion_from_previous: index === 0 ? 1 : ratio(counts[index], counts[index - 1]),
      conversion_from_start: ratio(counts[index], counts[0]),
    })),
  };
}
