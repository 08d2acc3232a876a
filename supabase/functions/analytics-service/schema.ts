// Valibot, like the shared fields: the browser tracking client bundles this module (see fields.ts).
import * as v from "valibot";
import {
  contentIdSchema,
  contentTypeSchema,
  objectLike,
  pageUrlSchema,
  refuse,
  sessionIdSchema,
  strictObject,
  urlTextSchema,
  utmSchema,
} from "../_shared/tracking/fields.ts";
import { isoDateTime, uuid } from "../_shared/tracking/formats.ts";
import { normalizeEventName } from "./event-name.ts";

/** The most events one ingest request may carry. */
export const MAX_BATCH_EVENTS = 500;
const MAX_PROPERTIES = 50;
const MAX_PROPERTIES_BYTES = 8192;

/** An event name in any spelling, normalized to snake_case: a standard name or a custom one. */
export const eventNameSchema = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1),
  v.maxLength(100),
  v.rawTransform((context) =>
    normalizeEventName(context.dataset.value) ??
      refuse(context, "Use letters, digits, spaces, - . or _, starting with a letter")
  ),
);

// jsonb cannot hold U+0000, so a string with one would fail the whole batch's insert.
const text = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.minLength(min),
    v.maxLength(max),
    v.check((value) => !value.includes("\u0000"), "No NUL characters"),
  );

const propertyValue = v.union([text(0, 1000), v.pipe(v.number(), v.finite()), v.boolean(), v.null()]);

/** Flat properties: short keys, primitive values, a few KiB at most. */
export const propertiesSchema = v.pipe(
  objectLike<Record<string, v.InferInput<typeof propertyValue>>>(),
  v.record(text(1, 64), propertyValue),
  v.check((props) => Object.keys(props).length <= MAX_PROPERTIES, `At most ${MAX_PROPERTIES} properties`),
  v.check((props) => JSON.stringify(props).length <= MAX_PROPERTIES_BYTES, `At most ${MAX_PROPERTIES_BYTES} bytes`),
);

/** One analytics event as a browser sends it. */
export const analyticsEventSchema = v.pipe(
  strictObject({
    /** The client's id for this event (a UUID); a retried batch is stored once. */
    id: v.pipe(v.string(), uuid()),
    name: eventNameSchema,
    /** When it happened: ISO 8601 with offset, or epoch milliseconds; clamped to ±24 h of arrival. */
    timestamp: v.optional(
      v.union([v.pipe(v.string(), isoDateTime()), v.pipe(v.number(), v.safeInteger(), v.minValue(0))]),
    ),
    /** Overrides the batch's session_id. */
    session_id: v.optional(sessionIdSchema),
    url: v.optional(pageUrlSchema),
    referrer: v.optional(urlTextSchema),
    content_type: v.optional(contentTypeSchema),
    content_id: v.optional(contentIdSchema),
    utm: v.optional(utmSchema),
    properties: v.optional(propertiesSchema),
  }),
  v.forward(
    v.check(
      (event) => (event.content_type === undefined) === (event.content_id === undefined),
      "Send content_type and content_id together",
    ),
    ["content_id"],
  ),
);

/** An event as the client module builds it. */
export type AnalyticsEventInput = v.InferInput<typeof analyticsEventSchema>;

/** An event after validation. */
export type ValidAnalyticsEvent = v.InferOutput<typeof analyticsEventSchema>;

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
