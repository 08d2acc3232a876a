import type { SupabaseClient } from "@supabase/supabase-js";
import * as v from "valibot";
// The schemas are the functions' own, so the client refuses exactly what the functions would.
// These modules are valibot plus pure normalization code (no Deno, no database), safe in a
// bundle; `npm run size` shows what the bundle weighs (dev/size/).
import { sessionIdSchema } from "../supabase/functions/_shared/tracking/fields.ts";
import { issueDetails } from "../supabase/functions/_shared/tracking/issues.ts";
import {
  type AnalyticsEventInput,
  analyticsEventSchema,
  type IngestRequest,
  type IngestResponse,
  MAX_BATCH_EVENTS,
} from "../supabase/functions/analytics-service/schema.ts";
import {
  type ShareRequest,
  shareRequestSchema,
  type ShareResponse,
} from "../supabase/functions/track-social-share/schema.ts";
import { invokeWithRetry, type RetryPolicy, TrackingError } from "./invoke.ts";

export { TrackingError, type TrackingErrorKind } from "./invoke.ts";

/** The functions' default MAX_BODY_BYTES: a batch is cut before its body would be refused with 413. */
const MAX_BATCH_BYTES = 1_048_576;

/** Options of {@link createTrackingClient}. */
export interface TrackingClientOptions {
  /** Events per ingest request, 1 to 500 (default 50); a full batch is sent at once. */
  batchSize?: number;
  /** How often queued events are sent (default 5000 ms); 0 sends only on flush(), close() or a full batch. */
  flushIntervalMs?: number;
  /** Most events kept waiting (default 1000); beyond, the oldest are dropped and reported as `dropped`. */
  maxQueue?: number;
  /** Retries of a request after its first attempt (default 5). */
  maxRetries?: number;
  /** First backoff (default 500 ms), doubling per retry with jitter, at most 30 s; a Retry-After takes precedence. */
  retryBaseMs?: number;
  /** How long one attempt may take before it counts as a network failure (default 15000 ms). */
  requestTimeoutMs?: number;
  /** The browser session's id (8 to 128 letters, digits, `_ . : -`); default a random UUID for the client's life. */
  sessionId?: string;
  /** Failures of sending queued events, which no caller awaits (default `console.warn`). */
  onError?(error: TrackingError): void;
}

/** A share as a page reports it: session_id defaults to the client's. */
export type TrackShareInput = Omit<ShareRequest, "session_id"> & { session_id?: string };

/** An event's fields besides its name: id (a UUID) and timestamp default to new ones. */
export type TrackEventInput = Omit<AnalyticsEventInput, "id" | "name"> & { id?: string };

/** What a flush sent, as the function counted it, and how many events are still queued. */
export interface FlushResult {
  accepted: number;
  duplicates: number;
  rejected: number;
  pending: number;
}

/** Share and analytics tracking for a page: see {@link createTrackingClient}. */
export interface TrackingClient {
  /** The session id sent with every share and batch. */
  readonly sessionId: string;
  /**
   * Records a share now (not queued) and returns the function's answer (`counted: false` for a
   * repeat within the dedup window). Rejects with a TrackingError: `invalid` before sending,
   * `refused`, or `unavailable` once transient failures outlast the retries.
   */
  trackShare(share: TrackShareInput): Promise<ShareResponse["share"]>;
  /**
   * Queues an event and returns its id; sends the queue when a batch is full. Throws a
   * TrackingError (`invalid`) for an event the function would refuse; nothing is queued then.
   */
  track(name: string, event?: TrackEventInput): string;
  /**
   * Sends the events queued so far, in batches, one batch at a time. Never rejects: failures go
   * to `onError`. A batch refused outright (4xx other than 408 and 429) is dropped; one still
   * failing after the retries goes back to the front of the queue for the next flush (bounded
   * by maxQueue), and the flush stops there. Flushes never overlap: a call made while one runs
   * waits for it, and calls made before the next one starts share it.
   */
  flush(): Promise<FlushResult>;
  /** Stops the timer and flushes. Events tracked afterwards are sent by flush() or a full batch. */
  close(): Promise<FlushResult>;
}

interface Queued {
  event: AnalyticsEventInput & { id: string };
  bytes: number;
}

const byteLength = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

function invalid(what: string, issues: readonly v.BaseIssue<unknown>[]): TrackingError {
  const details = issueDetails(issues);
  const summary = details.map((detail) => (detail.path ? `${detail.path}: ${detail.message}` : detail.message));
  return new TrackingError(`${what}: ${summary.join("; ")}`, "invalid", { body: details });
}

/**
 * A tracking client calling track-social-share and analytics-service through
 * `supabase.functions.invoke`, so requests carry the signed-in user's session token (else the
 * anon key) and the client's global headers and fetch.
 */
export function createTrackingClient(
  supabase: Pick<SupabaseClient, "functions">,
  options: TrackingClientOptions = {},
): TrackingClient {
  const batchSize = options.batchSize ?? 50;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_EVENTS) {
    throw new RangeError(`batchSize must be an integer from 1 to ${MAX_BATCH_EVENTS}`);
  }
  const sessionId = options.sessionId ?? crypto.randomUUID();
  if (!v.is(sessionIdSchema, sessionId)) {
    throw new RangeError("sessionId must be 8 to 128 letters, digits or _ . : -");
  }
  const maxQueue = options.maxQueue ?? 1000;
  const policy: RetryPolicy = {
    maxRetries: options.maxRetries ?? 5,
    retryBaseMs: options.retryBaseMs ?? 500,
    timeoutMs: options.requestTimeoutMs ?? 15_000,
  };
  const onError = options.onError ?? ((error: TrackingError) => console.warn(error));
  const envelopeBytes = byteLength({ session_id: sessionId, events: [] });
  const queue: Queued[] = [];

  const report = (error: TrackingError) => {
    try {
      onError(error);
    } catch {
      // A throwing handler must not stop the queue.
    }
  };

  const trim = () => {
    const excess = queue.length - maxQueue;
    if (excess <= 0) return;
    const dropped = queue.splice(0, excess);
    report(
      new TrackingError(`Dropped the ${excess} oldest events: the queue holds ${maxQueue}`, "dropped", {
        eventIds: dropped.map((item) => item.event.id),
      }),
    );
  };

  // Up to `limit` events from the front, within batchSize and the body limit. The first always
  // fits: the schema bounds every field of an event far below the limit.
  const takeBatch = (limit: number) => {
    const most = Math.min(limit, batchSize, queue.length);
    let bytes = envelopeBytes;
    let count = 0;
    while (count < most && (count === 0 || bytes + queue[count].bytes + 1 <= MAX_BATCH_BYTES)) {
      bytes += queue[count].bytes + 1;
      count++;
    }
    return queue.splice(0, count);
  };

  const drain = async (): Promise<FlushResult> => {
    const result: FlushResult = { accepted: 0, duplicates: 0, rejected: 0, pending: 0 };
    // Only what is queued now: a busy page cannot keep one flush, and whoever awaits it, going.
    let budget = queue.length;
    while (budget > 0 && queue.length > 0) {
      const batch = takeBatch(budget);
      budget -= batch.length;
      const eventIds = batch.map((item) => item.event.id);
      const request: IngestRequest = { session_id: sessionId, events: batch.map((item) => item.event) };
      try {
        // Every retry, and a later flush of a batch put back, re-sends the same event ids: the
        // function stores each id once and counts repeats as duplicates, so resending is safe.
        const data = await invokeWithRetry<IngestResponse>(supabase, "analytics-service", request, policy);
        result.accepted += data.accepted;
        result.duplicates += data.duplicates;
        result.rejected += data.rejected;
        if (data.rejected > 0) {
          report(
            new TrackingError(`analytics-service refused ${data.rejected} of ${batch.length} events`, "rejected", {
              body: data.errors,
              eventIds: data.errors.map((rejected) => eventIds[rejected.index]),
            }),
          );
        }
      } catch (error) {
        const failure = error instanceof TrackingError
          ? error
          : new TrackingError(String(error), "unavailable", {}, { cause: error });
        report(new TrackingError(failure.message, failure.kind, { ...failure.details, eventIds }, { cause: failure }));
        if (failure.kind === "unavailable") {
          // Back to the front, in order, for the next flush; the batches behind it would fail too.
          queue.unshift(...batch);
          trim();
          break;
        }
        // Refused (400: a bad envelope; 401/403: the key or token; 413: too large): sending the
        // same batch again would be refused again, so it is dropped.
      }
    }
    result.pending = queue.length;
    return result;
  };

  let tail: Promise<unknown> = Promise.resolve();
  let waiting: Promise<FlushResult> | null = null;
  const flush = (): Promise<FlushResult> => {
    // A flush that has not started yet will also send what was queued since it was asked for.
    if (waiting) return waiting;
    const run = tail.then(() => {
      waiting = null;
      return drain();
    });
    waiting = run;
    // drain() reports rather than throws; the catch only keeps a bug from wedging every later flush.
    tail = run.catch(() => undefined);
    return run;
  };

  const intervalMs = options.flushIntervalMs ?? 5000;
  const timer = intervalMs > 0
    ? setInterval(() => {
      if (queue.length > 0) void flush();
    }, intervalMs)
    : undefined;

  return {
    sessionId,
    async trackShare(share) {
      const request: ShareRequest = { ...share, session_id: share.session_id ?? sessionId };
      const parsed = v.safeParse(shareRequestSchema, request);
      if (!parsed.success) throw invalid("Invalid share", parsed.issues);
      // One key for every attempt: when an answer is lost after the share was stored, the retry
      // is answered with the stored response (counted, same id) instead of a "not counted" repeat.
      const headers = { "Idempotency-Key": crypto.randomUUID() };
      const answer = await invokeWithRetry<ShareResponse>(supabase, "track-social-share", request, policy, headers);
      return answer.share;
    },
    track(name, event = {}) {
      const candidate = {
        ...event,
        id: event.id ?? crypto.randomUUID(),
        name,
        timestamp: event.timestamp ?? new Date().toISOString(),
      };
      const parsed = v.safeParse(analyticsEventSchema, candidate);
      if (!parsed.success) throw invalid(`Invalid event "${name}"`, parsed.issues);
      // The event goes as given, not as parsed: the function parses it again, and a parsed name
      // is an object, not a string.
      queue.push({ event: candidate, bytes: byteLength(candidate) });
      trim();
      if (queue.length >= batchSize) void flush();
      return candidate.id;
    },
    flush,
    close() {
      clearInterval(timer);
      return flush();
    },
  };
}
