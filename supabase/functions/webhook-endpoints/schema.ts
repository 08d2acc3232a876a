import { z } from "zod";
import { subscriptionProblem } from "../_shared/event-catalogue.ts";
import { cursorParam } from "./cursor.ts";

// Bounds mirror the table's check constraints, so a bad value is a 400 here, not a 500 there.
const url = z.string().min(1).max(2048);
const description = z.string().max(500).nullable();
const eventTypes = z
  .array(z.string().max(100))
  .min(1)
  .max(100)
  .superRefine((types, ctx) => {
    types.forEach((type, index) => {
      const problem = subscriptionProblem(type);
      if (problem) ctx.addIssue({ code: "custom", path: [index], message: problem });
    });
  })
  .transform((types) => [...new Set(types)]);
const limits = {
  rate_limit_per_minute: z.number().int().min(1).max(100_000).optional(),
  rate_limit_burst: z.number().int().min(1).max(100_000).optional(),
  max_in_flight: z.number().int().min(1).max(1000).optional(),
};

// Strict objects: a misspelt field ("event_type") or an attempt to set `secret` is a 400,
// never silently ignored.

/** POST /webhook-endpoints. `tenant_id` is for the platform caller only (null: platform endpoint). */
export const createEndpointBody = z.strictObject({
  url,
  event_types: eventTypes.default(["*"]),
  description: description.optional(),
  active: z.boolean().optional(),
  legacy_signature: z.boolean().optional(),
  ...limits,
  tenant_id: z.guid().nullable().optional(),
});

/** PATCH /webhook-endpoints/:id: any of the settable fields, at least one. */
export const updateEndpointBody = z
  .strictObject({
    url: url.optional(),
    event_types: eventTypes.optional(),
    description: description.optional(),
    active: z.boolean().optional(),
    legacy_signature: z.boolean().optional(),
    ...limits,
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), "send at least one field to change");

/**
 * POST /webhook-endpoints/:id/rotate-secret: nothing, or `expire_previous: true` to rotate again
 * while an earlier rotation's secret still signs, ending that secret's 24 hours now.
 */
export const rotateBody = z.strictObject({ expire_previous: z.boolean().optional() });

/** POST /webhook-endpoints/:id/recover: the creation-time window [from, to) to replay. */
export const recoverBody = z
  .strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) })
  // Written so that an unparseable bound (NaN) passes here: its own issue already says why.
  .refine((body) => !(Date.parse(body.from) >= Date.parse(body.to)), { path: ["to"], message: "must be after from" });

const limit = z.coerce.number().int().min(1).max(100).default(50);

/** The query of GET /webhook-endpoints; `tenant_id` narrows a platform caller's list. */
export const listEndpointsQuery = z.strictObject({
  limit,
  cursor: cursorParam.optional(),
  tenant_id: z.guid().optional(),
});

/** The delivery statuses of the outbound webhook contract. */
export const DELIVERY_STATUSES = ["PENDING", "SUCCESS", "FAILED", "RETRY_EXHAUSTED"] as const;

/** The query of GET /webhook-endpoints/:id/deliveries. */
export const listDeliveriesQuery = z.strictObject({
  limit,
  cursor: cursorParam.optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
});

/** A validated create request. */
export type CreateEndpointBody = z.infer<typeof createEndpointBody>;
/** A validated update request. */
export type UpdateEndpointBody = z.infer<typeof updateEndpointBody>;
/** A validated endpoint list query. */
export type ListEndpointsQuery = z.infer<typeof listEndpointsQuery>;
/** A validated delivery list query. */
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;
