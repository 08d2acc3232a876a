import type { Logger } from "../_shared/log.ts";
import type { RateLimiter, RateLimitPolicy } from "../_shared/rate-limit.ts";
import { runPool } from "../_shared/run-pool.ts";
import { inSpan } from "../_shared/telemetry/tracing.ts";
import type { EmailJob, EmailQueue } from "./queue.ts";
import { renderTemplate, TemplateError } from "../_shared/email/render.ts";
import type { EmailSender, OutgoingEmail, SendOutcome } from "./sender.ts";

/** What a drain needs. */
export interface DrainDeps {
  queue: EmailQueue;
  send: EmailSender;
  takeToken: RateLimiter;
  /** The provider's request rate, shared by every worker through one Postgres bucket. */
  providerPolicy: RateLimitPolicy;
  from: string;
  workerId: string;
  batchSize: number;
  leaseSeconds: number;
  /** Stop claiming after this long; claimed work is always finished or handed back. */
  budgetMs: number;
  /** Requests to the provider in flight at once. */
  concurrency: number;
  log: Logger;
}

/** Counts of what one drain did. */
export interface DrainReport {
  claimed: number;
  sent: number;
  retried: number;
  throttled: number;
  failed: number;
  requests: number;
}

interface Group {
  key: string;
  jobs: EmailJob[];
  emails: OutgoingEmail[];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Claims due jobs and sends them until the queue is empty or the budget is spent. Each
 * request's Idempotency-Key is written to the jobs before the request, so whatever happens
 * next (a timeout, a crash, a lost answer) the retry is the same request and Resend replays
 * it instead of sending again. Each claim, provider request and settlement has its trace span
 * (`email.claim`, `email.send`, `email.complete`).
 */
export async function drain(deps: DrainDeps): Promise<DrainReport> {
  const report: DrainReport = { claimed: 0, sent: 0, retried: 0, throttled: 0, failed: 0, requests: 0 };
  const deadline = Date.now() + deps.budgetMs;
  while (Date.now() < deadline) {
    const jobs = await claim(deps);
    if (jobs.length === 0) break;
    report.claimed += jobs.length;
    const groups = await prepareGroups(deps, jobs, report);
    await runPool(groups, deps.concurrency, (group) => sendGroup(deps, group, report));
  }
  return report;
}

/**
 * Renders every job and forms the requests: jobs that already carry a send key (an earlier
 * attempt whose outcome is unknown) go again exactly as they went; the rest are packed into
 * batches under fresh keys, persisted before anything is sent.
 */
async function prepareGroups(deps: DrainDeps, jobs: EmailJob[], report: DrainReport): Promise<Group[]> {
  const templates = await deps.queue.templates([...new Set(jobs.map((job) => job.template))]);
  const rendered: { job: EmailJob; email: OutgoingEmail }[] = [];
  for (const job of jobs) {
    try {
      const template = templates.get(job.template);
      if (!template) throw new TemplateError(`template ${job.template} does not exist`);
      rendered.push({ job, email: { from: deps.from, to: job.recipient, ...renderTemplate(template, job.data) } });
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      await deps.queue.fail([job.id], "failed", error.message);
      report.failed++;
      deps.log.warn("email job failed to render", { jobId: job.id, error: error.message });
    }
  }

  const byKey = new Map<string, Group>();
  const fresh: typeof rendered = [];
  for (const item of rendered) {
    if (!item.job.send_key) {
      fresh.push(item);
      continue;
    }
    const group = byKey.get(item.job.send_key) ?? { key: item.job.send_key, jobs: [], emails: [] };
    group.jobs.push(item.job);
    group.emails.push(item.email);
    byKey.set(item.job.send_key, group);
  }
  const groups = [...byKey.values()];
  for (const group of groups) {
    // Same members in the same order as the first attempt, so the request is byte-identical.
    const order = group.jobs.map((job, i) => [job.id, i] as const).sort(([a], [b]) => a.localeCompare(b));
    group.jobs = order.map(([, i]) => group.jobs[i]);
    group.emails = order.map(([, i]) => group.emails[i]);
  }
  fresh.sort((a, b) => a.job.id.localeCompare(b.job.id));
  for (let i = 0; i < fresh.length; i += deps.batchSize) {
    const chunk = fresh.slice(i, i + deps.batchSize);
    const group = { key: crypto.randomUUID(), jobs: chunk.map((c) => c.job), emails: chunk.map((c) => c.email) };
    await deps.queue.assignSendKey(group.jobs.map((job) => job.id), group.key);
    groups.push(group);
  }
  return groups;
}

function claim(deps: DrainDeps): Promise<EmailJob[]> {
  const limit = deps.batchSize * deps.concurrency;
  return inSpan("email.claim", { "batch.limit": limit }, async (span) => {
    const jobs = await deps.queue.claim(deps.workerId, limit, deps.leaseSeconds);
    span.setAttribute("batch.size", jobs.length);
    return jobs;
  });
}

async function waitForToken(deps: DrainDeps): Promise<void> {
  for (;;) {
    const decision = await deps.takeToken("resend:requests", deps.providerPolicy);
    if (decision.allowed) return;
    await sleep(decision.retryAfterMs ?? decision.retryAfterSeconds * 1000);
  }
}

async function sendGroup(deps: DrainDeps, group: Group, report: DrainReport): Promise<void> {
  const ids = group.jobs.map((job) => job.id);
  await waitForToken(deps);
  report.requests++;
  const attributes = { provider: "resend", "batch.size": ids.length };
  const outcome = await inSpan("email.send", attributes, async (span) => {
    const sent = await deps.send(group.emails, group.key);
    span.setAttribute("outcome", sent.kind);
    return sent;
  });
  // Settling a rejected batch is sending its emails one by one, each settled in its own span.
  if (outcome.kind === "rejected" && group.jobs.length > 1) return await isolateRejected(deps, group, report);
  await inSpan("email.complete", { ...attributes, outcome: outcome.kind }, () => settle(deps, group, outcome, report));
}

// Records what became of one request's jobs; what each outcome means is SendOutcome's.
async function settle(deps: DrainDeps, group: Group, outcome: SendOutcome, report: DrainReport): Promise<void> {
  const ids = group.jobs.map((job) => job.id);
  switch (outcome.kind) {
    case "sent":
      await deps.queue.complete(ids, outcome.messageIds);
      report.sent += ids.length;
      return;
    case "throttled":
      await deps.queue.fail(ids, "throttled", outcome.error, outcome.retryAfterSeconds);
      report.throttled += ids.length;
      return;
    case "unknown":
      await deps.queue.fail(ids, "retry", outcome.error, outcome.retryAfterSeconds, true);
      report.retried += ids.length;
      deps.log.warn("email send outcome unknown; will resend the same request", {
        key: group.key,
        error: outcome.error,
      });
      return;
    case "refused":
      await deps.queue.fail(ids, "retry", outcome.error);
      report.retried += ids.length;
      deps.log.error("email provider refused the request", { key: group.key, error: outcome.error });
      return;
    case "rejected":
      await deps.queue.fail(ids, "failed", outcome.error);
      report.failed += ids.length;
  }
}

// Batches are all-or-nothing: find the bad email by sending each one on its own.
async function isolateRejected(deps: DrainDeps, group: Group, report: DrainReport): Promise<void> {
  for (const [i, job] of group.jobs.entries()) {
    const single = { key: crypto.randomUUID(), jobs: [job], emails: [group.emails[i]] };
    await deps.queue.assignSendKey([job.id], single.key);
    await sendGroup(deps, single, report);
  }
}
