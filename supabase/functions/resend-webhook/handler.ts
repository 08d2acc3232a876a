import type { Sql } from "../_shared/db.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { answerRecordedEvent } from "../_shared/inbound-event.ts";
import { inSpan } from "../_shared/telemetry/tracing.ts";
import { DEFAULT_TOLERANCE_SECONDS } from "../_shared/webhook-verify/failures.ts";
import { standardWebhooksId } from "../_shared/webhook-verify/standard-webhooks.ts";
import { resendEventSchema } from "./event-schema.ts";
import { planResendEvent } from "./plan-event.ts";
import { recordResendEvent } from "./record-event.ts";

/** What the resend-webhook handler needs. */
export interface ResendWebhookDeps extends PipelineDeps {
  sql: Sql;
  /** Signing secrets (`whsec_...`); several while one is being rotated. */
  secrets: string[];
}

/**
 * resend-webhook: verify the Svix signature, validate the event, then record and apply it
 * once (email status, timestamps, suppressions). Answers 200 only after the commit; a
 * failed effect answers 500 so Resend redelivers, and the redelivery applies it.
 */
export function createResendWebhookHandler(deps: ResendWebhookDeps): (req: Request) => Promise<Response> {
  return createHandler({
    name: "resend-webhook",
    methods: ["POST"],
    // The principal is the delivery: its svix-id, which the signature covers, is the event's unique id.
    authenticate: async (ctx, rawBody) => ({
      principal: await inSpan("webhook.verify", { provider: "resend" }, (span) => {
        const svixId = standardWebhooksId({
          rawBody,
          headers: ctx.req.headers,
          url: ctx.url,
          secrets: deps.secrets,
          options: {},
          toleranceSeconds: DEFAULT_TOLERANCE_SECONDS,
        });
        span.setAttributes({ outcome: "verified", "event.id": svixId });
        return Promise.resolve(svixId);
      }),
    }),
    schema: resendEventSchema,
    handle: async ({ ctx, principal: svixId, body: event, rawBody }) => {
      const effect = planResendEvent(event);
      const result = await recordResendEvent(deps.sql, svixId, event, rawBody, effect, ctx.requestId);
      return answerRecordedEvent(ctx, "Resend", { id: svixId, type: event.type }, result, {
        messageId: effect.messageId,
      });
    },
  }, deps);
}
