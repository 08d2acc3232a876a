import { isTransientDbError } from "./db.ts";
import { HttpError } from "./http/errors.ts";
import type { HandlerResult, RequestContext } from "./http/pipeline.ts";
import { inSpan } from "./telemetry/tracing.ts";

/** What recording a provider event did: stored status, effect outcome, and whether it was a redelivery. */
export interface RecordResult {
  status: "pending" | "processed" | "ignored" | "unmatched" | "failed";
  outcome: string | null;
  duplicate: boolean;
  error: string | null;
}

/** Which event a record is of, for its trace span: `stripe`, `resend` or `source:<id>`, and the event's id and type. */
export interface RecordedEventKey {
  provider: string;
  id: string;
  type: string;
}

/**
 * Runs `apply` (record the event and apply its effect, one transaction). If the effect
 * raises, that transaction has rolled back whole; `recordFailure` then keeps the event,
 * marked failed with the reason, in a transaction of its own, so the provider's redelivery
 * applies it. A transient database error is rethrown (503): nothing was stored, and the
 * provider's retry starts from scratch. Both run in a `webhook.record` span whose `outcome`
 * is the stored status.
 */
export function applyOrRecordFailure(
  event: RecordedEventKey,
  apply: () => Promise<Omit<RecordResult, "error">>,
  recordFailure: (error: string) => Promise<unknown>,
): Promise<RecordResult> {
  const attributes = { provider: event.provider, "event.id": event.id, "event.type": event.type };
  return inSpan("webhook.record", attributes, async (span) => {
    const result = await applyOrFailure(apply, recordFailure);
    span.setAttributes({ outcome: result.status, duplicate: result.duplicate });
    return result;
  });
}

async function applyOrFailure(
  apply: () => Promise<Omit<RecordResult, "error">>,
  recordFailure: (error: string) => Promise<unknown>,
): Promise<RecordResult> {
  try {
    return { error: null, ...(await apply()) };
  } catch (cause) {
    if (isTransientDbError(cause)) throw cause;
    const error = cause instanceof Error ? cause.message : String(cause);
    try {
      await recordFailure(error);
    } catch (failure) {
      // Keeping the failure failed as well, and for the same kind of reason: the payload itself
      // cannot be stored (a number beyond numeric's range, nesting deeper than the server's
      // stack). No redelivery can change that, so it is the sender's 400, not a 500 forever.
      if (isUnstorableData(cause) && isUnstorableData(failure)) throw unstorablePayload(failure);
      throw failure;
    }
    return { status: "failed", outcome: null, duplicate: false, error };
  }
}

/** A data exception (SQLSTATE class 22) or too complex a statement (54001): what a value, not the server, caused. */
function isUnstorableData(error: unknown): boolean {
  const code = String((error as { code?: unknown } | null)?.code ?? "");
  return code.startsWith("22") || code === "54001";
}

const unstorablePayload = (failure: unknown) =>
  new HttpError(400, "unstorable_payload", `The body is JSON that cannot be stored: ${(failure as Error).message}.`, {
    security: "malformed_payload",
  });

/**
 * The answer to a recorded provider event: 200 with what happened once it is durably stored
 * (duplicates included), 202 when it is stored and waits for an async batch, 500
 * `effect_failed` when its effect failed, so the provider retries.
 */
export function answerRecordedEvent(
  ctx: RequestContext,
  provider: string,
  event: { id: string; type: string },
  result: RecordResult,
  logFields: Record<string, unknown> = {},
): HandlerResult {
  const fields = { eventId: event.id, type: event.type, ...logFields, ...result };
  if (result.status === "failed") {
    ctx.log.error(`${provider} event effect failed`, fields);
    throw new HttpError(
      500,
      "effect_failed",
      "The event was recorded but applying it failed; the provider's retry will apply it.",
    );
  }
  ctx.log.info(result.duplicate ? `${provider} event duplicate` : `${provider} event recorded`, fields);
  return {
    status: result.status === "pending" ? 202 : 200,
    body: {
      received: true,
      id: event.id,
      type: event.type,
      status: result.status,
      outcome: result.outcome,
      duplicate: result.duplicate,
    },
  };
}
