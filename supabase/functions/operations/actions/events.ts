import { z } from "zod";
import { HttpError } from "../../_shared/http/errors.ts";
import { eventFilter, eventId, eventWhere } from "../filters.ts";
import { type Reprocessed, reprocessEvent, type StoredEvent } from "../reprocess.ts";
import { type Action, type ActionContext, BATCH_ROWS, inBatches, refuseIfTooBroad } from "./action.ts";

const RETRYABLE = ["failed", "unmatched"];
// Events reprocessed at once: enough to overlap round trips, few enough to leave the pool to live traffic.
const RETRY_CONCURRENCY = 4;

async function count(ctx: ActionContext, filter: z.infer<typeof eventFilter>, statuses?: string[]): Promise<number> {
  const [row] = await ctx.sql<{ n: number }[]>`
    select count(*)::int as n from public.webhook_events e where ${eventWhere(ctx.sql, ctx.caller, filter, statuses)}`;
  return row.n;
}

/** Reprocesses `events`, a few at a time, and counts what became of them by resulting status. */
async function reprocessAll(ctx: ActionContext, events: StoredEvent[]) {
  const outcomes: Record<string, number> = {};
  const errors: { id: string; error: string }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < events.length) {
      const event = events[next++];
      const result: Reprocessed = await reprocessEvent(ctx.sql, event, ctx.requestId, ctx.mirrored);
      outcomes[result.status] = (outcomes[result.status] ?? 0) + 1;
      if (result.error && errors.length < 20) errors.push({ id: event.id, error: result.error });
    }
  };
  await Promise.all(Array.from({ length: RETRY_CONCURRENCY }, worker));
  return { outcomes, errors };
}

const selectEvents = (
  ctx: ActionContext,
  filter: z.infer<typeof eventFilter>,
  statuses: string[],
  afterId: string,
  limit: number,
) =>
  ctx.sql<StoredEvent[]>`
    select e.id::text as id, e.provider, e.event_id, e.event_type, e.payload from public.webhook_events e
    where ${eventWhere(ctx.sql, ctx.caller, filter, statuses)} and e.id > ${afterId}::bigint
    order by e.id limit ${limit}`;

/** `retry-event {id}`: one failed or unmatched event through the live effect code. */
export const retryEvent: Action<{ id: string; dry_run?: boolean }> = {
  params: z.strictObject({ id: eventId, dry_run: z.boolean().optional() }),
  async run(ctx, { id, dry_run }) {
    const [event] = await selectEvents(ctx, { ids: [id] }, RETRYABLE, "0", 1);
    if (!event) {
      throw new HttpError(
        404,
        "not_found",
        "No failed or unmatched event with this id (processed events are not retried).",
      );
    }
    if (dry_run) return { touched: 0, body: { matched: 1 } };
    const { outcomes, errors } = await reprocessAll(ctx, [event]);
    return { touched: 1, body: { matched: 1, outcomes, errors } };
  },
};

/** `retry-failed {filter, dry_run}`: every matching failed or unmatched event, through the live effect code. */
export const retryFailed: Action<{ filter: z.infer<typeof eventFilter>; dry_run?: boolean }> = {
  params: z.strictObject({ filter: eventFilter.default({}), dry_run: z.boolean().optional() }),
  async run(ctx, { filter, dry_run }) {
    const matched = await count(ctx, filter, RETRYABLE);
    if (dry_run) return { touched: 0, body: { matched } };
    refuseIfTooBroad(matched);
    const outcomes: Record<string, number> = {};
    const errors: { id: string; error: string }[] = [];
    let after = "0";
    let done = 0;
    let complete = false;
    while (Date.now() <= ctx.deadline) {
      const events = await selectEvents(ctx, filter, RETRYABLE, after, 100);
      if (events.length === 0) {
        complete = true;
        break;
      }
      after = events.at(-1)!.id;
      const batch = await reprocessAll(ctx, events);
      for (const [status, n] of Object.entries(batch.outcomes)) outcomes[status] = (outcomes[status] ?? 0) + n;
      errors.push(...batch.errors.slice(0, 20 - errors.length));
      done += events.length;
      ctx.log.info("retry-failed: progress", { done, matched });
    }
    return { touched: done, body: { matched, retried: done, complete, outcomes, errors } };
  },
};

/** `mark-processed {filter, dry_run}`: settles matching unprocessed events by hand (the operator dealt with them). */
export const markProcessed: Action<{ filter: z.infer<typeof eventFilter>; dry_run?: boolean }> = {
  params: z.strictObject({ filter: eventFilter.default({}), dry_run: z.boolean().optional() }),
  async run(ctx, { filter, dry_run }) {
    const statuses = ["pending", "failed", "unmatched"];
    const matched = await count(ctx, filter, statuses);
    if (dry_run) return { touched: 0, body: { matched } };
    refuseIfTooBroad(matched);
    const { done, complete } = await inBatches(ctx, "mark-processed", async () => {
      const rows = await ctx.sql`
        update public.webhook_events t set status = 'processed', outcome = 'marked_processed', error = null,
          processed_at = now(), next_attempt_at = null
        where t.id in (
          select e.id from public.webhook_events e where ${eventWhere(ctx.sql, ctx.caller, filter, statuses)}
          limit ${BATCH_ROWS} for update skip locked)
        returning t.id`;
      return rows.length;
    });
    return { touched: done, body: { matched, marked: done, complete } };
  },
};

/** `delete-event {filter, dry_run}`: removes matching events. Their ids then dedupe no more: a redelivery is applied again. */
export const deleteEvents: Action<{ filter: z.infer<typeof eventFilter>; dry_run?: boolean }> = {
  params: z.strictObject({ filter: eventFilter, dry_run: z.boolean().optional() }),
  async run(ctx, { filter, dry_run }) {
    const matched = await count(ctx, filter);
    if (dry_run) return { touched: 0, body: { matched } };
    refuseIfTooBroad(matched);
    const { done, complete } = await inBatches(ctx, "delete-event", async () => {
      const rows = await ctx.sql`
        delete from public.webhook_events t where t.id in (
          select e.id from public.webhook_events e where ${eventWhere(ctx.sql, ctx.caller, filter)}
          limit ${BATCH_ROWS} for update skip locked)
        returning t.id`;
      return rows.length;
    });
    return { touched: done, body: { matched, deleted: done, complete } };
  },
};

/**
 * `find-duplicates {window_minutes}`: what was received more than once (redeliveries, with
 * counts), different ids carrying the same payload (a sender that re-sends with new ids), and
 * anything the unique keys should have stopped: expected to be empty.
 */
export const findDuplicates: Action<{ window_minutes: number; dry_run?: boolean }> = {
  platformOnly: true,
  params: z.strictObject({
    window_minutes: z.number().int().min(1).max(30 * 24 * 60).default(24 * 60),
    dry_run: z.boolean().optional(),
  }),
  async run(ctx, { window_minutes }) {
    const since = ctx.sql`now() - make_interval(mins => ${window_minutes})`;
    const [redelivered, samePayload, violations] = await Promise.all([
      ctx.sql`
        select e.id::text as id, e.provider, e.event_id, e.event_type, e.duplicates, e.last_duplicate_at
        from public.webhook_events e where e.last_duplicate_at >= ${since}
        order by e.duplicates desc, e.id limit 100`,
      ctx.sql`
        select e.provider, md5(e.payload::text) as payload_md5, count(*)::int as events,
               array_agg(e.event_id order by e.id) as event_ids
        from public.webhook_events e where e.received_at >= ${since}
        group by e.provider, md5(e.payload::text) having count(*) > 1
        order by count(*) desc limit 100`,
      ctx.sql`
        select 'webhook_events' as "table", provider || ':' || event_id as key, count(*)::int as rows
        from public.webhook_events group by provider, event_id having count(*) > 1
        union all
        select 'email_queue', idempotency_key, count(*)::int from public.email_queue
        group by idempotency_key having count(*) > 1
        union all
        select 'webhook_deliveries', event_id || ':' || endpoint_id, count(*)::int from public.webhook_deliveries
        group by event_id, endpoint_id having count(*) > 1`,
    ]);
    return {
      touched: 0,
      body: { window_minutes, redelivered, same_payload: samePayload, constraint_violations: violations },
    };
  },
};
