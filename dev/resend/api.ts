import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FailureSpec } from "./failures.ts";
import { BodyTooLargeError, parseJson, readBody, sendError, sendJson } from "./http.ts";
import { fingerprintOf, IdempotencyStore, MAX_IDEMPOTENCY_KEY_LENGTH } from "./idempotency.ts";
import { retrieveResponseOf, type StoredEmail, storedEmailOf } from "./inbox.ts";
import { DEFAULT_RATE_LIMIT, type RateDecision, rateLimitHeaders } from "./rate-limit.ts";
import { parseBatch, parseEmail, type ValidationProblem } from "./schema.ts";
import type { StandInState } from "./state.ts";

/** The two endpoints that send email (and so take idempotency keys and injected failures). */
export type SendEndpoint = "/emails" | "/emails/batch";

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const rateLimitMessage = (limit: number) =>
  `Too many requests. You can only make ${limit} requests per second. ` +
  "See rate limit response headers for more information. Or contact support to increase rate limit.";

function sendInjected(state: StandInState, res: ServerResponse, failure: { status: number; retryAfter?: number }) {
  const headers: Record<string, string> = {};
  if (failure.retryAfter !== undefined || failure.status === 429) {
    headers["retry-after"] = String(Math.max(1, failure.retryAfter ?? 1));
  }
  if (failure.status === 429) {
    const limit = state.limiter.limit || DEFAULT_RATE_LIMIT;
    Object.assign(headers, {
      "ratelimit-limit": String(limit),
      "ratelimit-remaining": "0",
      "ratelimit-reset": headers["retry-after"],
    });
    return sendError(res, 429, "rate_limit_exceeded", rateLimitMessage(limit), headers);
  }
  const [name, message] = failure.status === 500
    ? ["internal_server_error", "An unexpected error occurred (injected by the Resend stand-in)."]
    : ["application_error", `Service unavailable: status ${failure.status} injected by the Resend stand-in.`];
  sendError(res, failure.status, name, message, headers);
}

// Leaves the request unanswered until the client gives up (or reset/close destroys it).
function hold(state: StandInState, res: ServerResponse, onGone?: () => void): void {
  state.held.add(res);
  res.on("close", () => {
    state.held.delete(res);
    onGone?.();
  });
}

function validationFailed(res: ServerResponse, problem: ValidationProblem, headers: Record<string, string>) {
  sendError(res, 422, problem.name, problem.message, headers);
}

function accept(
  endpoint: SendEndpoint,
  body: unknown,
  permissive: boolean,
  idempotencyKey: string | null,
): { emails: StoredEmail[]; response: unknown } | { problem: ValidationProblem } {
  if (endpoint === "/emails") {
    const parsed = parseEmail(body);
    if ("problem" in parsed) return parsed;
    const email = storedEmailOf(randomUUID(), parsed.email, idempotencyKey, false);
    return { emails: [email], response: { id: email.id } };
  }
  const parsed = parseBatch(body, permissive);
  if ("problem" in parsed) return parsed;
  const emails = parsed.emails.map(({ email }) => storedEmailOf(randomUUID(), email, idempotencyKey, true));
  const data = emails.map((e) => ({ id: e.id }));
  return { emails, response: permissive ? { data, errors: parsed.errors } : { data } };
}

/**
 * `POST /emails` and `POST /emails/batch`. The order of checks is deliberate: injected failures
 * first (they simulate the network or an outage, before Resend sees anything), then idempotency
 * (so replays neither spend rate-limit budget nor re-validate), then the rate limit, then the body.
 */
export async function handleSend(
  state: StandInState,
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: SendEndpoint,
  apiKey: string,
): Promise<void> {
  let raw: string;
  try {
    raw = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return sendError(res, 422, "validation_error", error.message);
    res.destroy();
    return;
  }

  const idempotencyKey = header(req, "idempotency-key") ?? null;
  if (idempotencyKey !== null && (idempotencyKey.length < 1 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    return sendError(res, 400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
  }
  const permissive = endpoint === "/emails/batch" && header(req, "x-batch-validation")?.toLowerCase() === "permissive";
  const parsed = parseJson(raw);
  const fingerprint = fingerprintOf(parsed.ok ? parsed.value : raw, `${endpoint}|${permissive}`);
  const scope = idempotencyKey ? IdempotencyStore.scope(apiKey, endpoint, idempotencyKey) : null;

  const taken: FailureSpec | null = state.failures.take();
  const failure = taken && "mode" in taken && taken.mode === "pass" ? null : taken;
  if (failure) {
    state.log(`injected ${"status" in failure ? `status ${failure.status}` : failure.mode} on POST ${endpoint}`);
  }
  if (failure && "status" in failure) return sendInjected(state, res, failure);
  if (failure?.mode === "timeout") {
    // A request stuck inside Resend still holds its key: a retry meanwhile gets 409 concurrent.
    if (scope && state.idempotency.lookup(scope, fingerprint).kind === "new") {
      state.idempotency.reserve(scope, fingerprint);
      return hold(state, res, () => state.idempotency.release(scope));
    }
    return hold(state, res);
  }

  if (!parsed.ok) return sendError(res, 422, "validation_error", "Invalid JSON in the request body.");

  if (scope) {
    const found = state.idempotency.lookup(scope, fingerprint);
    if (found.kind === "replay") {
      state.replays++;
      return sendJson(res, found.response.status, found.response.body, rateLimitHeaders(state.limiter.peek(apiKey)));
    }
    if (found.kind === "mismatch") {
      return sendError(
        res,
        409,
        "invalid_idempotent_request",
        "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
      );
    }
    if (found.kind === "in-flight") {
      return sendError(
        res,
        409,
        "concurrent_idempotent_requests",
        "Same idempotency key used while original request is still in progress. Try the request again later.",
      );
    }
  }

  const decision: RateDecision | null = state.limiter.take(apiKey);
  const limitHeaders = rateLimitHeaders(decision);
  if (decision && !decision.allowed) {
    return sendError(res, 429, "rate_limit_exceeded", rateLimitMessage(decision.limit), limitHeaders);
  }

  const result = accept(endpoint, parsed.value, permissive, idempotencyKey);
  if ("problem" in result) return validationFailed(res, result.problem, limitHeaders);

  for (const email of result.emails) state.inbox.add(email);
  const body = JSON.stringify(result.response);
  if (scope) state.idempotency.complete(scope, fingerprint, { status: 200, body });
  if (failure?.mode === "drop-response") hold(state, res);
  else sendJson(res, 200, body, limitHeaders);

  if (state.autoEvents) { for (const email of result.emails) state.dispatcher.startLifecycle(email); }
}

/** `GET /emails/:id`, shaped like Resend's retrieve. */
export function handleRetrieve(state: StandInState, res: ServerResponse, id: string, apiKey: string): void {
  const decision = state.limiter.take(apiKey);
  const limitHeaders = rateLimitHeaders(decision);
  if (decision && !decision.allowed) {
    return sendError(res, 429, "rate_limit_exceeded", rateLimitMessage(decision.limit), limitHeaders);
  }
  const email = state.inbox.get(id);
  if (!email) return sendError(res, 404, "not_found", "Email not found", limitHeaders);
  sendJson(res, 200, retrieveResponseOf(email), limitHeaders);
}
