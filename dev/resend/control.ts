import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { failureSpecSchema } from "./failures.ts";
import { parseJson, readBody, sendError, sendJson } from "./http.ts";
import { resetState, type StandInState } from "./state.ts";
import { WEBHOOK_TYPES } from "./webhooks.ts";

const rateLimitSchema = z.object({ perSecond: z.number().min(0).nullable() });
const eventSchema = z.object({ type: z.enum(WEBHOOK_TYPES) });

async function jsonBody<T>(req: IncomingMessage, res: ServerResponse, schema: z.ZodType<T>): Promise<T | null> {
  const parsed = parseJson(await readBody(req, 64 * 1024));
  const result = parsed.ok ? schema.safeParse(parsed.value) : null;
  if (result?.success) return result.data;
  const message = result ? z.prettifyError(result.error) : "Invalid JSON in the request body.";
  sendError(res, 422, "validation_error", message);
  return null;
}

/**
 * The test-only `/_control/*` routes: inject failures, reset, change the rate limit, post
 * an event for an email on demand, and `GET /_control/stats` (how many sends the idempotency
 * keys answered as replays). Unauthenticated on purpose: they only exist locally.
 */
export async function handleControl(
  state: StandInState,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (req.method === "GET" && path === "/_control/stats") return sendJson(res, 200, { replays: state.replays });
  if (req.method !== "POST") return sendError(res, 405, "method_not_allowed", "Control routes only accept POST.");

  if (path === "/_control/failures") {
    const spec = await jsonBody(req, res, failureSpecSchema);
    if (!spec) return;
    state.failures.add(spec);
    state.log(
      `injecting ${"status" in spec ? `status ${spec.status}` : spec.mode} into the next ${spec.count} send(s)`,
    );
    return sendJson(res, 200, { ok: true });
  }
  if (path === "/_control/reset") {
    resetState(state);
    return sendJson(res, 200, { ok: true });
  }
  if (path === "/_control/rate-limit") {
    const body = await jsonBody(req, res, rateLimitSchema);
    if (!body) return;
    state.limiter.setLimit(body.perSecond ?? 0);
    state.log(`rate limit set to ${state.limiter.limit || "unlimited"} per second`);
    return sendJson(res, 200, { ok: true, perSecond: state.limiter.limit });
  }
  const events = /^\/_control\/emails\/([^/]+)\/events$/.exec(path);
  if (events) {
    const email = state.inbox.get(decodeURIComponent(events[1]));
    if (!email) return sendError(res, 404, "not_found", "Email not found");
    const body = await jsonBody(req, res, eventSchema);
    if (!body) return;
    const record = await state.dispatcher.emit(email, body.type);
    return sendJson(res, 200, record);
  }
  sendError(res, 404, "not_found", "The requested endpoint does not exist.");
}
