// zod/mini, like the shared fields: the browser tracking client bundles this module (see fields.ts).
import * as z from "zod/mini";
// What z.iso.datetime() calls: reaching `z.iso` would bring every ISO format into the bundle.
import { _isoDateTime } from "zod/v4/core";
import {
  contentIdSchema,
  contentTypeSchema,
  pageUrlSchema,
  sessionIdSchema,
  urlTextSchema,
  utmSchema,
} from "../_shared/tracking/fields.ts";
import { normalizeEventName } from "./event-name.ts";

/** The most events one ingest request may carry. */
export const MAX_BATCH_EVENTS = 500;
const MAX_PROPERTIES = 50;
const MAX_PROPERTIES_BYTES = 8192;

/** An event name in any spelling, normalized to snake_case: a standard name or a custom one. */
export const eventNameSchema = z.pipe(
  z.string().check(z.trim(), z.minLength(1), z.maxLength(100)),
  z.transform((raw: string, ctx) => {
    const normalized = normalizeEventName(raw);
    if (normalized === null) {
      ctx.issues.push({
        code: "custom",
        message: "Use letters, digits, spaces, - . or _, starting with a letter",
        input: raw,
      });
      return z.NEVER;
    }
    return normalized;
  }),
);

// jsonb cannot hold U+0000, so a string with one would fail the whole batch's insert.
const text = (min: number, max: number) =>
  z.string().check(
    z.minLength(min),
    z.maxLength(max),
    z.refine((value) => !value.includes("\u0000"), "No NUL characters"),
  );

/** Flat properties: short keys, primitive values, a few KiB at most. */
export const propertiesSchema = z
  .record(text(1, 64), z.union([text(0, 1000), z.number(), z.boolean(), z.null()]))
  .check(
    z.refine((props) => Object.keys(props).length <= MAX_PROPERTIES, `At most ${MAX_PROPERTIES} properties`),
    z.refine((props) => JSON.stringify(props).length <= MAX_PROPERTIES_BYTES, `At most ${MAX_PROPERTIES_BYTES} bytes`),
  );

/** One analytics event as a browser sends it. */
export const analyticsEventSchema = z
  .strictObject({
    /** The client's id for this event (a UUID); a retried batch is stored once. */
    id: z.uuid(),
    name: eventNameSchema,
    /** When it happened: ISO 8601 with offset, or epoch milliseconds; clamped to ±24 h of arrival. */
    timestamp: z.optional(
      z.union([_isoDateTime(z.ZodMiniISODateTime, { offset: true }), z.number().check(z.int(), z.nonnegative())]),
    ),
    /** Overrides the batch's session_id. */
    session_id: z.optional(sessionIdSchema),
    url: z.optional(pageUrlSchema),
    referrer: z.optional(urlTextSchema),
    content_type: z.optional(contentTypeSchema),
    content_id: z.optional(contentIdSchema),
    utm: z.optional(utmSchema),
    properties: z.optional(propertiesSchema),
  })
  .check(
    z.refine((event) => (event.content_type === undefined) === (event.content_id === undefined), {
      message: "Send content_type and content_id together",
      path: ["content_id"],
    }),
  );

/** An event as the client module builds it. */
export type AnalyticsEventInput = z.input<typeof analyticsEventSchema>;

/** An event after validation. */
export type ValidAnalyticsEvent = z.output<typeof analyticsEventSchema>;

/** An ingest request as the client module builds it. */
export type IngestRequest = { session_id?: string; events: AnalyticsEventInput[] };

/** Why one event of a batch was refused. */
export interface RejectedEvent {
  index: number;
  id?: string;
  details: { path: string; message: string }[];
}

/** What an ingest answers: every event is accepted, a duplicate of one stored before, or rejected. */
export interface IngestResponse {
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: RejectedEvent[];
}
