import { Resend } from "resend";

/** One email as handed to the provider. */
export interface OutgoingEmail {
  from: string;
  to: string;
  subject: string;
  html: string;
  text: string;
}

/**
 * What became of one request to the provider:
 * - sent: accepted; message ids in request order (null when only a replay told us it was sent);
 * - throttled: 429, nothing sent, retry after the given time without spending an attempt;
 * - rejected: the request can never succeed as it is (invalid input);
 * - refused: nothing was sent but a retry may succeed (bad credentials, 4xx of the account);
 * - unknown: no answer or a 5xx: it may have been sent, so the retry must be the same request.
 */
export type SendOutcome =
  | { kind: "sent"; messageIds: (string | null)[] }
  | { kind: "throttled"; retryAfterSeconds: number; error: string }
  | { kind: "rejected"; error: string }
  | { kind: "refused"; error: string }
  | { kind: "unknown"; error: string; retryAfterSeconds?: number };

/** Sends a group of emails as one request carrying `idempotencyKey`. */
export type EmailSender = (emails: OutgoingEmail[], idempotencyKey: string) => Promise<SendOutcome>;

/** Options of {@link createResendSender}. */
export interface ResendSenderOptions {
  apiKey: string;
  baseUrl: string;
  /** A request still unanswered after this long has an unknown outcome. */
  timeoutMs?: number;
}

interface ResendError {
  statusCode?: number | null;
  name?: string;
  message?: string;
}

function retryAfterOf(headers: Record<string, string> | null | undefined): number | undefined {
  const value = Number(headers?.["retry-after"]);
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

function classify(error: ResendError, headers: Record<string, string> | null | undefined, count: number): SendOutcome {
  const status = error.statusCode ?? null;
  const text = `${status ?? "no answer"} ${error.name ?? ""}: ${error.message ?? ""}`.trim();
  // The key was used before with a different body: that earlier request was accepted.
  if (status === 409 && error.name === "invalid_idempotent_request") {
    return { kind: "sent", messageIds: Array(count).fill(null) };
  }
  if (status === 429) return { kind: "throttled", retryAfterSeconds: retryAfterOf(headers) ?? 1, error: text };
  if (status === 400 || status === 422) return { kind: "rejected", error: text };
  if (status !== null && status >= 401 && status < 500 && status !== 409) return { kind: "refused", error: text };
  return { kind: "unknown", error: text, retryAfterSeconds: retryAfterOf(headers) };
}

/**
 * An {@link EmailSender} over the official `resend` SDK: one email through `emails.send`,
 * several through `batch.send` (up to 100), always with the job's persisted Idempotency-Key.
 */
export function createResendSender(options: ResendSenderOptions): EmailSender {
  const resend = new Resend(options.apiKey, { baseUrl: options.baseUrl });
  const timeoutMs = options.timeoutMs ?? 15_000;
  return async (emails, idempotencyKey) => {
    const requestOptions = { idempotencyKey, signal: AbortSignal.timeout(timeoutMs) };
    if (emails.length === 1) {
      const { data, error, headers } = await resend.emails.send(emails[0], requestOptions);
      return error ? classify(error, headers, 1) : { kind: "sent", messageIds: [data!.id] };
    }
    const { data, error, headers } = await resend.batch.send(emails, requestOptions);
    return error ? classify(error, headers, emails.length) : { kind: "sent", messageIds: data!.data.map((d) => d.id) };
  };
}
