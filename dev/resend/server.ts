import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleRetrieve, handleSend } from "./api.ts";
import { handleControl } from "./control.ts";
import { FailureQueue, type FailureSpec, failureSpecSchema } from "./failures.ts";
import { apiKeyOf, sendError, sendHtml, sendJson } from "./http.ts";
import { IdempotencyStore } from "./idempotency.ts";
import { Inbox, type StoredEmail } from "./inbox.ts";
import { renderEmailBody, renderInboxPage } from "./inbox-page.ts";
import { DEFAULT_RATE_LIMIT, RateLimiter } from "./rate-limit.ts";
import { resetState, type StandInState } from "./state.ts";
import { isWebhookType, WebhookDispatcher, type WebhookTarget, type WebhookType } from "./webhooks.ts";

/** Re-exported so callers need only this module: the inbox records. */
export type { EmailEventRecord, StoredEmail } from "./inbox.ts";
/** Re-exported: what `injectFailures` and `POST /_control/failures` take. */
export type { FailureSpec } from "./failures.ts";
/** Re-exported: webhook configuration and event types. */
export type { WebhookTarget, WebhookType } from "./webhooks.ts";
/** Re-exported: every event type `emit` accepts. */
export { WEBHOOK_TYPES } from "./webhooks.ts";

/** How to start a stand-in. */
export interface ResendStandInOptions {
  /** 0 = any free port. */
  port: number;
  /** Default 5 (Resend's default); 0 or Infinity = no limit. */
  rateLimitPerSecond?: number;
  /** Where to post signed events; `secret` is `whsec_<base64>`. */
  webhook?: WebhookTarget;
  /** Default true: each accepted email gets sent → delivered (or bounced / complained) events. */
  autoEvents?: boolean;
  /** Operational lines (injected failures, webhook give-ups); nothing per email, to keep benchmarks quiet. */
  log?: (line: string) => void;
}

/** A running stand-in. */
export interface ResendStandIn {
  url: string;
  port: number;
  /** Accepted emails, newest first (live records: `events` keeps growing as webhooks go out). */
  inbox(): StoredEmail[];
  injectFailures(spec: FailureSpec): void;
  /** Posts one event for an email; resolves once the receiver accepted it or retries ran out. */
  emit(emailId: string, type: WebhookType): Promise<void>;
  /** Clears inbox, idempotency keys, rate-limit buckets, pending failures and queued webhooks. */
  reset(): void;
  close(): Promise<void>;
}

// The HTML page stays fast with thousands of emails; /inbox has everything.
const PAGE_LIMIT = 500;
const EMAIL_BODY_CSP = "sandbox; default-src 'none'; img-src * data:; style-src 'unsafe-inline' *; font-src *";

function serveInbox(state: StandInState, res: ServerResponse, path: string, url: URL): boolean {
  if (path === "/") {
    sendHtml(res, renderInboxPage(state.inbox.list(PAGE_LIMIT), state.inbox.size));
    return true;
  }
  if (path === "/inbox") {
    const limit = Number(url.searchParams.get("limit"));
    sendJson(res, 200, { data: state.inbox.list(limit > 0 ? limit : Infinity) });
    return true;
  }
  const match = /^\/inbox\/([^/]+)(\/html)?$/.exec(path);
  if (!match) return false;
  const email = state.inbox.get(decodeURIComponent(match[1]));
  if (!email) sendError(res, 404, "not_found", "Email not found");
  else if (match[2]) sendHtml(res, renderEmailBody(email), { "content-security-policy": EMAIL_BODY_CSP });
  else sendJson(res, 200, email);
  return true;
}

// Async although nothing is awaited directly, so that a synchronous throw becomes a rejection for the 500 handler.
// deno-lint-ignore require-await
async function route(state: StandInState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
  const method = req.method ?? "GET";

  if (path.startsWith("/_control/")) return handleControl(state, req, res, path);
  if (method === "GET" && serveInbox(state, res, path, url)) return;

  const emailPath = /^\/emails(?:\/([^/]+))?$/.exec(path);
  if (!emailPath) return sendError(res, 404, "not_found", "The requested endpoint does not exist.");
  const apiKey = apiKeyOf(req);
  if (!apiKey) return sendError(res, 401, "missing_api_key", "Missing API key in the authorization header.");
  const id = emailPath[1] ? decodeURIComponent(emailPath[1]) : undefined;
  if (method === "POST" && id === undefined) return handleSend(state, req, res, "/emails", apiKey);
  if (method === "POST" && id === "batch") return handleSend(state, req, res, "/emails/batch", apiKey);
  if (method === "GET" && id !== undefined && id !== "batch") return handleRetrieve(state, res, id, apiKey);
  sendError(res, 405, "method_not_allowed", "Method is not allowed for the requested path.");
}

/** Starts a local Resend API on 127.0.0.1 that the real `resend` SDK can use via `baseUrl`. */
export async function startResendStandIn(options: ResendStandInOptions): Promise<ResendStandIn> {
  const log = options.log ?? (() => {});
  const state: StandInState = {
    inbox: new Inbox(),
    idempotency: new IdempotencyStore(),
    limiter: new RateLimiter(options.rateLimitPerSecond ?? DEFAULT_RATE_LIMIT),
    failures: new FailureQueue(),
    dispatcher: new WebhookDispatcher(options.webhook, log),
    autoEvents: options.autoEvents ?? true,
    replays: 0,
    held: new Set(),
    log,
  };

  const server = createServer((req, res) => {
    route(state, req, res).catch((error) => {
      log(`resend stand-in: ${req.method} ${req.url} failed: ${error instanceof Error ? error.stack : String(error)}`);
      if (!res.headersSent) sendError(res, 500, "internal_server_error", "The stand-in failed to handle the request.");
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    inbox: () => state.inbox.list(),
    injectFailures: (spec) => state.failures.add(failureSpecSchema.parse(spec)),
    emit: async (emailId, type) => {
      if (!isWebhookType(type)) throw new Error(`Unknown webhook type: ${String(type)}`);
      const email = state.inbox.get(emailId);
      if (!email) throw new Error(`No email with id ${emailId} in the stand-in inbox`);
      await state.dispatcher.emit(email, type);
    },
    reset: () => resetState(state),
    close: () => (closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Held (timeout-mode) requests would otherwise keep close() waiting forever.
      for (const res of state.held) res.destroy();
      server.closeAllConnections();
      await state.dispatcher.close();
      await closed;
    })()),
  };
}
