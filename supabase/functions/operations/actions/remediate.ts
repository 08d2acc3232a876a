import { z } from "zod";
import type { StoredEvent } from "../reprocess.ts";
import { reprocessEvent } from "../reprocess.ts";
import type { Action, ActionContext } from "./action.ts";

// An error text that says the database or the network failed, not the event: such an event
// succeeds when simply run again.
const TRANSIENT = "(connection|timeout|timed out|deadlock|could not serialize|terminating|too many clients|" +
  "lock not available|canceling statement|server closed|ECONNRESET|ECONNREFUSED)";
// How many events one call reprocesses per step, and how long a circuit must have been half
// open (the probe delivery allowed) before it is closed by hand.
const STEP_LIMIT = 500;
const HALF_OPEN_MINUTES = 10;

/** One step of auto-remediate: what it found, and what it did (nothing on a dry run). */
interface Step {
  step: string;
  found: number;
  fixed: number;
}

async function reprocessStep(ctx: ActionContext, step: string, events: StoredEvent[], dryRun: boolean): Promise<Step> {
  if (dryRun) return { step, found: events.length, fixed: 0 };
  let fixed = 0;
  for (const event of events) {
    const result = await reprocessEvent(ctx.sql, event, ctx.requestId, ctx.mirrored);
    if (result.status === "processed" || result.status === "ignored") fixed++;
  }
  return { step, found: events.length, fixed };
}

/**
 * `auto-remediate {dry_run}`: what is safe without a human, step by step.
 * 1. Expired leases (a worker died holding jobs): the workers are woken, and their claims take
 *    expired leases back themselves, keeping each email's send key, so nothing is sent twice.
 * 2. Inbound events that failed for a transient reason are reprocessed.
 * 3. Unmatched Stripe and Resend events are reprocessed: those whose order or email now exists apply.
 * 4. Circuits half open for HALF_OPEN_MINUTES are closed, so their deliveries flow again.
 */
export const autoRemediate: Action<{ dry_run?: boolean }> = {
  platformOnly: true,
  params: z.strictObject({ dry_run: z.boolean().optional() }),
  async run(ctx, { dry_run = false }) {
    const { sql } = ctx;
    const [leases] = await sql<{ email: number; deliveries: number }[]>`
      select (select count(*)::int from public.email_queue where status = 'sending' and locked_until < now()) as email,
             (select count(*)::int from public.webhook_deliveries
              where status = 'PENDING' and locked_until < now()) as deliveries`;
    const expired = leases.email + leases.deliveries;
    if (!dry_run && expired > 0) await sql`select public.wake_email_worker(), public.wake_webhook_dispatcher()`;
    const steps: Step[] = [{ step: "release_expired_leases", found: expired, fixed: dry_run ? 0 : expired }];

    const transient = await sql<StoredEvent[]>`
      select e.id::text as id, e.provider, e.event_id, e.event_type, e.payload from public.webhook_events e
      where e.status = 'failed' and e.error ~* ${TRANSIENT} order by e.id limit ${STEP_LIMIT}`;
    steps.push(await reprocessStep(ctx, "retry_transient_failures", transient, dry_run));

    const unmatched = await sql<StoredEvent[]>`
      select e.id::text as id, e.provider, e.event_id, e.event_type, e.payload from public.webhook_events e
      where e.status = 'unmatched' and e.provider in ('stripe', 'resend') order by e.id limit ${STEP_LIMIT}`;
    steps.push(await reprocessStep(ctx, "reconcile_unmatched", unmatched, dry_run));

    const halfOpen =
      sql`circuit_state = 'half_open' and circuit_changed_at < now() - make_interval(mins => ${HALF_OPEN_MINUTES})`;
    const [{ n: stuck }] = await sql<
      { n: number }[]
    >`select count(*)::int as n from public.webhook_endpoints where ${halfOpen}`;
    const closed = dry_run ? [] : await sql`
      update public.webhook_endpoints set circuit_state = 'closed', circuit_changed_at = now(), consecutive_failures = 0
      where ${halfOpen} returning id`;
    steps.push({ step: "close_half_open_circuits", found: stuck, fixed: closed.length });

    return { touched: steps.reduce((sum, step) => sum + step.fixed, 0), body: { steps } };
  },
};
