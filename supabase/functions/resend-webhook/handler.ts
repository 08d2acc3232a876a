import type { Sql } from "../_shared/db.ts";
import { createHandler, type PipelineDeps } from "../_shared/http/pipeline.ts";
import { answerRecordedEvent } from "../_shared/inbound-event.ts";
import { resendEventSchema } from "./event-schema.ts";
import { planResendEvent } from "./plan-event.ts";
import { recordResendEvent } from "./record-event.ts";
import { verifyResendWebhook } from "./verify.ts";

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
    authenticate: (ctx, rawBody) => {
      const { svixId, payload } = verifyResendWebhook(rawBody, ctx.req.headers, deps.secrets);
      // The principal is the delivery: its svix-id is the event's unique id.
      return Promise.resolve({ principal: svixId, parsed: payload });
    },
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
