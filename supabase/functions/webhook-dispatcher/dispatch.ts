import { setImmediate } from "node:timers";
import type { Logger } from "../_shared/log.ts";
import type { UrlCheck } from "../_shared/ssrf.ts";
import { inSpan } from "../_shared/telemetry/tracing.ts";
import type { AttemptRecord, ClaimedDelivery, DeliveryQueue } from "./queue.ts";
import type { AttemptResult, SendLimits } from "./send.ts";
import { signDelivery } from "./sign.ts";

/** What a dispatch run needs. */
export interface DispatchDeps {
  queue: DeliveryQueue;
  checkUrl: (url: string) => Promise<UrlCheck>;
  /** Sends to the addresses the SSRF guard checked for `url`, never to a fresh lookup's. */
  post: (
    url: URL,
    addresses: string[],
    body: string,
    headers: Record<string, string>,
    limits: SendLimits,
  ) => Promise<AttemptResult>;
  workerId: string;
  leaseSeconds: number;
  cooldownSeconds: number;
  /** WEBHOOK_CIRCUIT_THRESHOLD; unset, the delivery policy's applies. */
  circuitThreshold?: number;
  timeoutMs: number;
  /** Deliveries in flight at once, across endpoints (each endpoint also has its own cap). */
  concurrency: number;
  /** Stop claiming after this long; claimed deliveries are always finished. */
  budgetMs: number;
  log: Logger;
}

/** Counts of what one dispatch run did. */
export interface DispatchReport {
  claimed: number;
  succeeded: number;
  retried: number;
  failed: number;
}

/**
 * Claims due deliveries and sends them until none are due or the budget is spent. The pool
 * refills as deliveries finish rather than batch by batch, so one partner that takes the full
 * timeout to answer never holds back the others, and the next claim runs while the pool is busy
 * (up to two pools' worth claimed ahead, see claimAhead), so a freed slot never waits on a claim
 * round trip. The claim already respects each endpoint's
 * concurrency cap and token bucket; each delivery passes the SSRF guard again (DNS may have
 * changed since the endpoint was registered) before it is signed and sent. A pool slot is
 * freed once the partner has answered: recording the answer goes on in the background (and in
 * batches, see queue.ts), while the delivery still counts against its endpoint's cap until it
 * is recorded, since the claim counts leased rows. What an answer means (success, retry,
 * failure) and what follows is the delivery policy's, in SQL (`complete_webhook_deliveries`);
 * the dispatcher only reports what it saw. Each claim, send and complete has its trace span
 * (`webhook.claim`, `webhook.send`, `webhook.complete`); under Deno with `OTEL_DENO=true` the
 * POST itself is a `fetch` span inside `webhook.send`, and Deno puts that span's `traceparent`
 * on the delivery.
 */
export async function dispatch(deps: DispatchDeps): Promise<DispatchReport> {
  const report: DispatchReport = { claimed: 0, succeeded: 0, retried: 0, failed: 0 };
  const policy = await deps.queue.policy();
  const limits: SendLimits = { timeoutMs: deps.timeoutMs, bodyBytes: policy.response_body_limit };
  // One DNS answer per URL per run: 10,000 deliveries to one partner need not be 10,000 lookups.
  const checks = new Map<string, Promise<UrlCheck>>();
  const checkUrl = (url: string) => {
    if (!checks.has(url)) checks.set(url, deps.checkUrl(url));
    return checks.get(url)!;
  };
  const sending = new Set<Promise<void>>();
  const recording = new Set<Promise<void>>();
  const errors: unknown[] = [];
  // Bumped whenever a send or a recording ends: what frees an endpoint's slots, or the pool's.
  let progress = 0;
  const track = (set: Set<Promise<void>>, work: Promise<void>) => {
    const tracked: Promise<void> = work.catch((error) => void errors.push(error)).finally(() => {
      set.delete(tracked);
      progress++;
    });
    set.add(tracked);
  };
  const record = (delivery: ClaimedDelivery, attempt: AttemptRecord) =>
    track(recording, recordAttempt(deps, delivery, attempt, report));
  const deadline = Date.now() + deps.budgetMs;
  let ahead = claimAhead(deps);
  // Claimed and waiting for a pool slot: at most `ahead` beyond a full pool.
  const ready: { delivery: ClaimedDelivery; claimedAt: number }[] = [];
  let claiming: Promise<void> | null = null;
  // The `progress` at which the last claim came back short: nothing more is due until a send
  // or a recording ends, so claiming again before then would only spin.
  let dryAt = -1;
  const startClaim = (limit: number) => {
    const at = progress;
    claiming = claim(deps, limit)
      .then((claimed) => {
        report.claimed += claimed.length;
        const claimedAt = Date.now();
        for (const delivery of claimed) ready.push({ delivery, claimedAt });
        if (claimed.length < limit) dryAt = at;
      })
      .catch((error) => void errors.push(error))
      .finally(() => claiming = null);
  };
  // Hands back what waited too long for a slot, and everything waiting once a failure stops the run.
  const releaseWaiting = (all: boolean) => {
    const now = Date.now();
    const isStale = (item: (typeof ready)[number]) => all || now - item.claimedAt > CLAIM_AHEAD_MAX_WAIT_MS;
    const stale = ready.filter(isStale);
    if (stale.length === 0) return;
    ready.splice(0, ready.length, ...ready.filter((item) => !isStale(item)));
    report.claimed -= stale.length;
    // The pool frees too slowly for deliveries claimed ahead to leave at once: for the rest of
    // this run, claim only for free slots.
    ahead = 0;
    track(recording, releaseDeliveries(deps, stale.map((item) => item.delivery)));
  };
  // One timer for the oldest waiting delivery's hand-back, not one per turn of the loop.
  let handBack: { at: number; done: Promise<void> } | undefined;
  // Claim in batches of at least a quarter of the pool: a claim per freed slot would cost a
  // claim query per delivery.
  const minimumClaim = Math.max(1, Math.floor(deps.concurrency / 4));
  for (;;) {
    // After a failure nothing new starts: what the database could not record would be sent
    // again. What waits claimed goes back to the queue (or, if that fails too, when its lease
    // ends, as a crashed worker's does).
    releaseWaiting(errors.length > 0);
    const want = deps.concurrency + ahead - sending.size - ready.length;
    const idle = sending.size === 0 && ready.length === 0;
    if (
      claiming === null && Date.now() < deadline && errors.length === 0 && dryAt !== progress &&
      (want >= minimumClaim || (idle && want > 0))
    ) {
      startClaim(want);
      // The claim's query leaves before the sends take the event loop: postgres.js writes on
      // setImmediate, after every pending microtask, and signing and starting a claim's worth
      // of sends kept the loop ~3 ms (the median gap, in Postgres' log, between one claim's end
      // and the next one's start). Sending after the write was ahead in 5 of 7 back-to-back pairs.
      if (ready.length > 0 && sending.size < deps.concurrency) await new Promise((resolve) => setImmediate(resolve));
    }
    while (sending.size < deps.concurrency && ready.length > 0) {
      track(sending, sendOne(deps, ready.shift()!.delivery, limits, checkUrl, record));
    }
    if (claiming === null && idle && recording.size === 0) break;
    // Wait for a claim, a slot, a recording, or the moment the oldest waiting delivery must be
    // handed back; looping without awaiting would spin and starve the deliveries in flight.
    const handBackAt = ready.length > 0 ? ready[0].claimedAt + CLAIM_AHEAD_MAX_WAIT_MS + 1 : null;
    if (handBackAt !== null && handBack?.at !== handBackAt) handBack = { at: handBackAt, done: waitUntil(handBackAt) };
    await Promise.race([
      ...sending,
      ...recording,
      ...(claiming ? [claiming] : []),
      ...(handBackAt !== null ? [handBack!.done] : []),
    ]);
  }
  if (errors.length > 0) throw errors[0];
  return report;
}

/**
 * How long a delivery claimed ahead may wait for a pool slot before it is handed back: the claim
 * spent its endpoint's rate-limit token, so it must reach the partner about when the token was
 * taken, or a late delivery next to fresh ones could exceed the bucket. 100 ms, where a pool of
 * 32 sending to partners that answer in a few milliseconds empties a pool's worth in ~10 ms.
 */
const CLAIM_AHEAD_MAX_WAIT_MS = 100;

/**
 * How many deliveries may wait claimed beyond a full pool, so the next claim runs while the
 * pool is busy and no slot waits on a claim round trip. Two pools' worth at most, and none when
 * the lease could not cover a delivery that waits and then takes the full timeout. The window
 * has to cover what the pool sends while a claim is under way: at 10,000 events x 5 endpoints
 * a claim took about 7-8 ms from the dispatcher's side (2-3 ms of it in Postgres), in which a
 * pool of 32 sends about 40. Claiming ahead at all took `npm run bench -- outbound` from
 * 0.35-0.40 to 0.48 of raw signed POSTs, the second pool from 0.52 to 0.56. The claim
 * counts these leased rows against each endpoint's cap and spends their tokens, and what waits
 * too long is handed back, so claiming ahead never sends more to a partner at once, nor faster.
 */
function claimAhead(deps: DispatchDeps): number {
  return deps.leaseSeconds * 1000 >= 2 * deps.timeoutMs + 5000 ? 2 * deps.concurrency : 0;
}

const waitUntil = (at: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));

function releaseDeliveries(deps: DispatchDeps, deliveries: ClaimedDelivery[]): Promise<void> {
  return inSpan("webhook.release", { "batch.size": deliveries.length }, async () => {
    await deps.queue.release(deps.workerId, deliveries.map((delivery) => delivery.delivery_id));
  });
}

function claim(deps: DispatchDeps, room: number): Promise<ClaimedDelivery[]> {
  return inSpan("webhook.claim", { "batch.limit": room }, async (span) => {
    const claimed = await deps.queue.claim(deps.workerId, room, deps.leaseSeconds, deps.cooldownSeconds);
    span.setAttribute("batch.size", claimed.length);
    return claimed;
  });
}

/** The span attributes of one delivery. */
function deliveryAttributes(delivery: ClaimedDelivery) {
  return {
    "delivery.id": delivery.delivery_id,
    "delivery.attempt": delivery.attempt,
    "endpoint.id": delivery.endpoint_id,
    "event.id": delivery.event_id,
    "event.type": delivery.event_type,
  };
}

async function sendOne(
  deps: DispatchDeps,
  delivery: ClaimedDelivery,
  limits: SendLimits,
  checkUrl: (url: string) => Promise<UrlCheck>,
  record: (delivery: ClaimedDelivery, attempt: AttemptRecord) => void,
): Promise<void> {
  const attempt = await inSpan("webhook.send", deliveryAttributes(delivery), async (span) => {
    const attempt = await attemptOne(deps, delivery, limits, checkUrl);
    const outcome = attempt.refused ? "refused" : attempt.statusCode ? String(attempt.statusCode) : "no_answer";
    span.setAttribute("outcome", outcome);
    return attempt;
  });
  // Outside the send's span: recording is its sibling, not part of the send.
  record(delivery, attempt);
}

async function attemptOne(
  deps: DispatchDeps,
  delivery: ClaimedDelivery,
  limits: SendLimits,
  checkUrl: (url: string) => Promise<UrlCheck>,
): Promise<AttemptRecord> {
  const startedAt = new Date();
  const check = await checkUrl(delivery.url);
  if (!check.ok) {
    // A name that does not resolve may resolve later (no answer, retried); a forbidden address
    // never becomes allowed.
    return {
      statusCode: null,
      refused: check.code !== "unresolvable",
      startedAt,
      durationMs: 0,
      responseBody: "",
      error: `refused by the SSRF guard: ${check.reason}`,
    };
  }

  const headers = signDelivery(delivery.event_id, startedAt, delivery.payload, {
    secret: delivery.secret,
    previousSecret: delivery.previous_secret,
    legacySignature: delivery.legacy_signature,
  });
  const result = await deps.post(check.url, check.addresses, delivery.payload, headers, limits);
  return {
    statusCode: result.status,
    startedAt,
    durationMs: result.durationMs,
    responseBody: result.body,
    error: result.error,
    retryAfterSeconds: result.retryAfterSeconds,
  };
}

async function recordAttempt(
  deps: DispatchDeps,
  delivery: ClaimedDelivery,
  attempt: AttemptRecord,
  report: DispatchReport,
): Promise<void> {
  const status = await inSpan("webhook.complete", deliveryAttributes(delivery), async (span) => {
    const next = await deps.queue.complete(delivery.delivery_id, attempt, deps.circuitThreshold);
    span.setAttribute("outcome", next);
    return next;
  });
  if (status === "SUCCESS") report.succeeded++;
  else if (status === "PENDING") report.retried++;
  else report.failed++;
  if (status !== "SUCCESS") {
    deps.log.info("webhook delivery attempt failed", {
      deliveryId: delivery.delivery_id,
      endpointId: delivery.endpoint_id,
      attempt: delivery.attempt,
      status: attempt.statusCode,
      error: attempt.error,
      next: status,
    });
  }
}
