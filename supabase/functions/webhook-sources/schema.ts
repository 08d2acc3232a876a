import { z } from "zod";
import { publishableTypeProblem } from "../_shared/event-catalogue.ts";
import { locationProblem } from "../_shared/event-location.ts";
import { cursorParamOf } from "../_shared/http/cursor.ts";
import { VERIFIER_KINDS } from "../_shared/webhook-verify/types.ts";

// Bounds mirror the table's check constraints, so a bad value is a 400 here, not a 500 there.
const location = z.string().superRefine((value, ctx) => {
  const problem = locationProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}).nullable();

/** An event-type pattern: '*', an exact type, or a prefix wildcard ('customer.*'), as partners subscribe. */
const pattern = z.string().min(1).max(200).regex(
  /^(\*|[^*\s]+|[^*\s]+\.\*)$/,
  "must be *, a type, or a prefix ending in .*",
);

const filter = z.array(pattern).min(1).max(100).transform((types) => [...new Set(types)]);

const forward = z.array(z.strictObject({
  match: pattern,
  type: z.string().superRefine((type, ctx) => {
    const problem = publishableTypeProblem(type);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
})).max(20);

/** A SQL function as `schema.name`; it must take (event jsonb, source jsonb) and return text (checked in the database). */
const handler = z.string().max(127).regex(
  /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/,
  "must be schema.function_name, e.g. public.on_close_event",
).nullable();

const settings = {
  name: z.string().trim().min(1).max(200),
  verifier_options: z.record(z.string(), z.unknown()),
  event_id: location,
  event_type: location,
  filter,
  handler,
  forward,
  mode: z.enum(["sync", "async"]),
  batch_size: z.number().int().min(1).max(1000),
  max_wait_seconds: z.number().int().min(0).max(3600),
  tolerance_seconds: z.number().int().min(1).max(86_400),
  active: z.boolean(),
};
const optional = <T extends Record<string, z.ZodType>>(shape: T) =>
  Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, schema.optional()])) as {
    [K in keyof T]: z.ZodOptional<T[K]>;
  };

// Strict objects: a misspelt field ("event_types") is a 400, never silently ignored.

/** POST /webhook-sources. The verifier's own rules (options, secret) are checked by the route. */
export const createSourceBody = z.strictObject({
  ...optional(settings),
  name: settings.name,
  verifier: z.enum(VERIFIER_KINDS),
  secret: z.string().min(1).max(500).optional(),
  tenant_id: z.guid().nullable().optional(),
});

/** PATCH /webhook-sources/:id: any setting but the verifier and the secret (rotate it instead), at least one. */
export const updateSourceBody = z.strictObject(optional(settings))
  .refine((body) => Object.values(body).some((value) => value !== undefined), "send at least one field to change");

/** POST /webhook-sources/:id/rotate-secret: the provider's new secret where it issues them, and whether to end the old one now. */
export const rotateSourceBody = z.strictObject({
  secret: z.string().min(1).max(500).optional(),
  expire_previous: z.boolean().optional(),
});

/** POST /webhook-sources/:id/test: the sample's event type (each scheme has a default). */
export const testSourceBody = z.strictObject({ type: z.string().min(1).max(200).optional() });

const limit = z.coerce.number().int().min(1).max(100).default(50);

/** GET /webhook-sources. */
export const listSourcesQuery = z.strictObject({
  limit,
  cursor: cursorParamOf("uuid").optional(),
  tenant_id: z.guid().optional(),
});

/** The statuses an inbound event can have. */
export const EVENT_STATUSES = ["pending", "processed", "ignored", "unmatched", "failed"] as const;

/** GET /webhook-sources/:id/events: filters, a page, and whether to include each raw payload. */
export const listEventsQuery = z.strictObject({
  limit,
  cursor: cursorParamOf("bigint").optional(),
  status: z.enum(EVENT_STATUSES).optional(),
  type: z.string().min(1).max(200).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  include_payload: z.enum(["true", "false"]).default("false").transform((value) => value === "true"),
});

/** A validated create request. */
export type CreateSourceBody = z.infer<typeof createSourceBody>;
/** A validated update request. */
export type UpdateSourceBody = z.infer<typeof updateSourceBody>;
/** A validated events query. */
export type ListEventsQuery = z.infer<typeof listEventsQuery>;
