import type { Sql } from "../_shared/db.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { answerRecordedEvent } from "../_shared/inbound-event.ts";
import { inSpan } from "../_shared/telemetry/tracing.ts";
import { DEFAULT_TOLERANCE_SECONDS } from "../_shared/webhook-verify/failures.ts";
import { verifyStripeEvent } from "../_shared/webhook-verify/stripe.ts";
import { stripeEventSchema } from "./event-schema.ts";
import { planEffect } from "./plan-effect.ts";
import { planMirror } from "../_shared/stripe-mirror.ts";
import { recordStripeEvent } from "./record-event.ts";

/** What the stripe-webhook handler needs. */
export interface StripeWebhookDeps extends PipelineDeps {
  sql: Sql;
  /** Endpoint secrets (`whsec_...`); several while one is being rotated. */
  secrets: string[];
  /** The object types the mirror keeps (STRIPE_MIRROR). */
  mirrored: ReadonlySet<string>;
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
    authenticate: async (ctx, rawBody) => ({
      principal: "stripe",
      parsed: await inSpan("webhook.verify", { provider: "stripe" }, async (span) => {
        const event = await verifyStripeEvent(
          rawBody,
          ctx.req.headers.get("stripe-signature"),
          deps.secrets,
          DEFAULT_TOLERANCE_SECONDS,
        );
        span.setAttribute("outcome", "verified");
        return event;
      }),
    }),
    schema: stripeEventSchema,
    handle: async ({ ctx, body: event, rawBody }) => {
      const plan = [planEffect(event), planMirror(event, deps.mirrored)] as const;
      const result = await recordStripeEvent(deps.sql, event, rawBody, ...plan, ctx.requestId);
      return answerRecordedEvent(ctx, "Stripe", event, result);
    },
  }, deps);
}
