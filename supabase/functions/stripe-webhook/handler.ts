import type { Sql } from "../_shared/db.ts";
import { HttpError } from "../_shared/http/errors.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { stripeEventSchema } from "./event-schema.ts";
import { planEffect } from "./plan-effect.ts";
import { recordStripeEvent } from "./record-event.ts";
import { verifyStripeEvent } from "./verify.ts";

/** What the stripe-webhook handler needs. */
export interface StripeWebhookDeps extends PipelineDeps {
  sql: Sql;
  /** Endpoint secrets (`whsec_...`); several while one is being rotated. */
  secrets: string[];
  maxBodyBytes?: number;
}

/**
 * stripe-webhook: verify the signature, validate the event, plan its effect, then record
 * and apply it once. Answers 200 only after the commit; a failed effect answers 500 so
 * Stripe redelivers, and the redelivery applies it.
 */
export function createStripeWebhookHandler(deps: StripeWebhookDeps): (req: Request) => Promise<Response> {
  return createHandler({
    name: "stripe-webhook",
    methods: ["POST"],
    maxBodyBytes: deps.maxBodyBytes,
    authenticate: async (ctx, rawBody) => ({
      principal: "stripe",
      parsed: await verifyStripeEvent(rawBody, ctx.req.headers.get("stripe-signature"), deps.secrets),
    }),
    schema: stripeEventSchema,
    handle: async ({ ctx, body: event, rawBody }) => {
      const effect = planEffect(event);
      const result = await recordStripeEvent(deps.sql, event, rawBody, effect, ctx.requestId);
      const fields = { eventId: event.id, type: event.type, ...result };
      if (result.status === "failed") {
        ctx.log.error("stripe event effect failed", fields);
        throw new HttpError(
          500,
          "effect_failed",
          "The event was recorded but applying it failed; Stripe's retry will apply it.",
        );
      }
      ctx.log.info(result.duplicate ? "stripe event duplicate" : "stripe event recorded", fields);
      return {
        status: 200,
        body: {
          received: true,
          id: event.id,
          type: event.type,
          status: result.status,
          outcome: result.outcome,
          duplicate: result.duplicate,
        },
      };
    },
  }, deps);
}
