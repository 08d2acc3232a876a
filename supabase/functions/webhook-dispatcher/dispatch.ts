import type { Logger } from "../_shared/log.ts";
import type { UrlCheck } from "../_shared/ssrf.ts";
import { classifyStatus, retryAfterSeconds } from "./classify.ts";
import type { ClaimedDelivery, DeliveryQueue } from "./queue.ts";
import type { AttemptResult } from "./send.ts";
import { signDelivery } from "./sign.ts";

/** What a dispatch run needs. */
export interface DispatchDeps {
  queue: DeliveryQueue;
  checkUrl: (url: string) => Promise<UrlCheck>;
  post: (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<AttemptResult>;
  workerId: string;
  leaseSeconds: number;
  cooldownSeconds: number;
  circuitThreshold: number;
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
 * timeout to answer never holds back the others. The claim already respects each endpoint's
 * concurrency cap and token bucket; each delivery passes the SSRF guard again (DNS may have
 * changed since the endpoint was registered) before it is signed and sent.
 */
export async function dispatch(deps: DispatchDeps): Promise<DispatchReport> {
  const report: DispatchReport = { claimed: 0, succeeded: 0, retried: 0, failed: 0 };
  // One DNS answer per URL per run: 10,000 deliveries to one partner need not be 10,000 lookups.
  const checks = new Map<string, Promise<UrlCheck>>();
  const checkUrl = (url: string) => {
    if (!checks.has(url)) checks.set(url, deps.checkUrl(url));
    return checks.get(url)!;
  };
  const inFlight = new Set<Promise<void>>();
  const errors: unknown[] = [];
  const deadline = Date.now() + deps.budgetMs;
  // Claim in batches of at least a quarter of the pool: a claim per freed slot would cost a
  // claim query per delivery.
  const minimumClaim = Math.max(1, Math.floor(deps.concurrency / 4));
  while (Date.now() < deadline && errors.length === 0) {
    const room = deps.concurrency - inFlight.size;
    const claimed = room >= minimumClaim || inFlight.size === 0
      ? await deps.queue.claim(deps.workerId, room, deps.leaseSeconds, deps.cooldownSeconds)
      : [];
    report.claimed += claimed.length;
    for (const delivery of claimed) {
      const work: Promise<void> = deliverOne(deps, delivery, checkUrl, report)
        .catch((error) => void errors.push(error))
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    }
    if (inFlight.size === 0) break;
    // Wait for a slot whenever this turn could not fill the pool (it is full, or nothing more
    // is due yet). Looping without awaiting would spin and starve the deliveries in flight.
    if (claimed.length < room || room <= 0) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (errors.length > 0) throw errors[0];
  return report;
}

async function deliverOne(
  deps: DispatchDeps,
  delivery: ClaimedDelivery,
  checkUrl: (url: string) => Promise<UrlCheck>,
  report: DispatchReport,
): Promise<void> {
  const startedAt = new Date();
  const check = await checkUrl(delivery.url);
  if (!check.ok) {
    // A name that does not resolve may resolve later; a forbidden address never becomes allowed.
    const outcome = check.code === "unresolvable" ? "retry" : "failed";
    await deps.queue.complete(delivery.delivery_id, {
      outcome,
      statusCode: null,
      startedAt,
      durationMs: 0,
      responseBody: "",
      error: `refused by the SSRF guard: ${check.reason}`,
    }, deps.circuitThreshold);
    report[outcome === "retry" ? "retried" : "failed"]++;
    return;
  }

  const headers = signDelivery(delivery.event_id, startedAt, delivery.payload, {
    secret: delivery.secret,
    previousSecret: delivery.previous_secret,
    legacySignature: delivery.legacy_signature,
  });
  const result = await deps.post(delivery.url, delivery.payload, headers, deps.timeoutMs);
  const outcome = classifyStatus(result.status);
  const status = await deps.queue.complete(delivery.delivery_id, {
    outcome,
    statusCode: result.status,
    startedAt,
    durationMs: result.durationMs,
    responseBody: result.body,
    error: result.error,
    retryAfterSeconds: outcome === "retry" ? retryAfterSeconds(result.retryAfter) : undefined,
  }, deps.circuitThreshold);
  if (outcome === "success") report.succeeded++;
  else if (status === "PENDING") report.retried++;
  else report.failed++;
  if (outcome !== "success") {
    deps.log.info("webhook delivery attempt failed", {
      deliveryId: delivery.delivery_id,
      endpointId: delivery.endpoint_id,
      attempt: delivery.attempt,
      status: result.status,
      error: result.error,
      next: status,
    });
  }
}
