import {
  FunctionsFetchError,
  FunctionsHttpError,
  FunctionsRelayError,
  type SupabaseClient,
} from "@supabase/supabase-js";

/** What a tracking call failed on: see each kind's use in tracking.ts. */
export type TrackingErrorKind =
  /** Refused locally by the function's own schema; nothing was sent. */
  | "invalid"
  /** The function answered a 4xx that retrying cannot fix (other than 408 and 429). */
  | "refused"
  /** Network errors, 408, 429 or 5xx outlasted the retries. */
  | "unavailable"
  /** The function took the batch but refused some of its events. */
  | "rejected"
  /** The queue was full and its oldest events were dropped. */
  | "dropped";

/** Why a tracking call failed, with what the function answered when it answered. */
export class TrackingError extends Error {
  constructor(
    message: string,
    readonly kind: TrackingErrorKind,
    readonly details: {
      /** The HTTP status of the last answer, if there was one. */
      status?: number;
      /** The last answer's JSON body (`{error:{code,message,details},requestId}`), or the schema's issues. */
      body?: unknown;
      /** The events concerned, for queued events. */
      eventIds?: string[];
    } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "TrackingError";
  }
}

/** How calls are retried. */
export interface RetryPolicy {
  maxRetries: number;
  retryBaseMs: number;
  timeoutMs: number;
}

/** The longest backoff, and the longest Retry-After waited for before giving up instead. */
export const MAX_RETRY_DELAY_MS = 30_000;

/** The functions' error body: `{error:{code,message,details},requestId}`. */
type ErrorBody = { error?: { code?: unknown; message?: unknown } } | null;

/** A failed attempt, classified. */
interface Failure {
  transient: boolean;
  status?: number;
  body?: ErrorBody;
  retryAfterMs?: number;
  cause: unknown;
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds from now. */
function retryAfterMs(header: string | null): number | undefined {
  if (header === null || header.trim() === "") return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const isRetryableStatus = (status: number, body: ErrorBody) =>
  status === 408 || status === 429 || status >= 500 ||
  // The first attempt of the same Idempotency-Key is still running (its response was lost on the
  // way back, not its request): ask again once it has finished.
  (status === 409 && body?.error?.code === "idempotency_key_in_flight");

/** "answered 400 (message)" or "failed (cause)", for error messages. */
function describe(failure: Failure): string {
  if (failure.status === undefined) {
    return `failed (${failure.cause instanceof Error ? failure.cause.message : String(failure.cause)})`;
  }
  const message = failure.body?.error?.message;
  return `answered ${failure.status}${typeof message === "string" ? ` (${message})` : ""}`;
}

async function classify(error: unknown): Promise<Failure> {
  // Both carry the Response in `context`, its body still unread.
  if (error instanceof FunctionsHttpError || error instanceof FunctionsRelayError) {
    const response = error.context as Response;
    const body: ErrorBody = await response.json().catch(() => null);
    return {
      transient: error instanceof FunctionsRelayError || isRetryableStatus(response.status, body),
      status: response.status,
      body,
      retryAfterMs: retryAfterMs(response.headers.get("retry-after")),
      cause: error,
    };
  }
  // FunctionsFetchError is a network failure or the timeout. Anything else was thrown while
  // sending or reading (invoke hands back a 2xx answer's JSON parse error as is): the outcome is
  // unknown, and resending is safe because both functions make repeats harmless.
  return { transient: true, cause: error instanceof FunctionsFetchError ? error.context : error };
}

/** Backoff before retry number `attempt` (0-based): exponential, capped, with jitter so clients desynchronize. */
function backoffMs(attempt: number, baseMs: number): number {
  const ceiling = Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Invokes `name` with a JSON `body`, retrying network failures, 408, 429, 5xx (and a 409 for an
 * Idempotency-Key still in flight) with backoff, waiting what Retry-After says when it says
 * something. Every attempt sends the same body and headers; callers make that safe (event ids,
 * Idempotency-Key). Throws a {@link TrackingError}: `refused` or `unavailable`.
 */
export async function invokeWithRetry<T>(
  supabase: Pick<SupabaseClient, "functions">,
  name: string,
  body: object,
  policy: RetryPolicy,
  headers: Record<string, string> = {},
): Promise<T> {
  for (let attempt = 0;; attempt++) {
    // The body goes as an object: invoke serializes it as JSON. A pre-serialized string would be
    // sent as text/plain, which the functions refuse with 415.
    const { data, error } = await supabase.functions.invoke<T>(name, {
      body,
      headers,
      timeout: policy.timeoutMs,
    });
    // The failure type's `error: any` keeps TypeScript from narrowing `data` here.
    if (error === null) return data as T;
    const failure = await classify(error);
    const details = { status: failure.status, body: failure.body };
    const what = describe(failure);
    if (!failure.transient) {
      throw new TrackingError(`${name} ${what}`, "refused", details, { cause: failure.cause });
    }
    // A Retry-After beyond the cap is the function asking for more patience than a page has:
    // give up now rather than retry before it said to.
    const wait = failure.retryAfterMs ?? backoffMs(attempt, policy.retryBaseMs);
    if (attempt >= policy.maxRetries || wait > MAX_RETRY_DELAY_MS) {
      throw new TrackingError(`${name} ${what} after ${attempt + 1} attempts`, "unavailable", details, {
        cause: failure.cause,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
