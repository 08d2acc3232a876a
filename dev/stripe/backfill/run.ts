import type Stripe from "stripe";
import type { Sql } from "../../../supabase/functions/_shared/db.ts";
import type { MirrorName } from "../../../supabase/functions/_shared/stripe-mirror.ts";
import { jsonb } from "../../../supabase/functions/_shared/sql-json.ts";
import { type ListParams, LISTS } from "./lists.ts";

// The backfill: for each chosen type, list everything Stripe has (auto-pagination, newest
// first) and write each page in one transaction together with the type's progress row.
//
// Position: every object of a type is written at (listing started, rank 1, event id ''), a
// snapshot taken when that type's listing started. stripe_mirror_write applies it only past the
// row's position, so an event created later, or in the same second (any event id sorts after
// ''), wins over the backfill, and the backfill never overwrites what a newer event wrote. An
// object read late in a long listing may be newer than that snapshot; erring early only lets
// an event of the meantime win, and that event's own successors arrive as events too.
//
// Resume: an unfinished type continues after its last written id, at the interrupted run's
// snapshot position and `since`. Rate limits (429) are retried here, after the page in hand
// is written, by listing again from that cursor: the SDK retries connection errors and 5xx,
// not 429 (stripe-node#1110).

/** Progress of one type after a page (counts cover the whole run, a resumed part included). */
export interface TypeProgress {
  name: MirrorName;
  listed: number;
  written: number;
  /** Listed but not written: the row held a newer event's (or a later backfill's) position. */
  keptNewer: number;
  /** The snapshot position, Unix seconds. */
  startedAt: number;
  resumed: boolean;
}

/** What {@link runBackfill} needs; the edges (clock, sleep, page hook) are injectable for tests. */
export interface BackfillOptions {
  stripe: Stripe;
  sql: Sql;
  objects: readonly MirrorName[];
  since?: Date;
  /** Start over even where a run was interrupted. */
  restart?: boolean;
  /** Page size, 1-100; default 100. */
  limit?: number;
  /** One line per page, per resume and per rate-limit wait. */
  log?: (line: string) => void;
  /** Unix seconds; default the system clock. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Called after each page is committed, before the next is requested. */
  onPage?: (progress: TypeProgress) => Promise<void> | void;
  /** 429s in a row before giving up; default 8 (about 2 minutes of backoff). */
  rateLimitRetries?: number;
}

/** An invocation that contradicts the stored progress (exit 2 in the CLI). */
export class BackfillUsageError extends Error {}

interface ProgressRow {
  started_at: Date;
  since: Date | null;
  listed: number;
  written: number;
  last_id: string | null;
  finished_at: Date | null;
}

const seconds = (at: Date) => Math.floor(at.getTime() / 1000);

/** The wait before retry `attempt` (1-based) after a 429: Retry-After when sent, else 1, 2, 4 ... 32 s. */
function rateLimitDelay(error: unknown, attempt: number): number {
  const header = (error as { headers?: Record<string, string> }).headers?.["retry-after"];
  const retryAfter = Number(header);
  if (header !== undefined && Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter, 60) * 1000;
  return Math.min(1000 * 2 ** (attempt - 1), 32_000);
}

const isRateLimit = (error: unknown) => (error as { statusCode?: number }).statusCode === 429;

/** The line printed after each page. */
export const progressLine = (p: TypeProgress) =>
  `${p.name}: ${p.listed} listed, ${p.written} written, ${p.keptNewer} kept newer`;

/** Backfills each type in turn; resolves with each type's final progress, rejects on the first failure. */
export async function runBackfill(options: BackfillOptions): Promise<TypeProgress[]> {
  const results: TypeProgress[] = [];
  for (const name of options.objects) results.push(await backfillType(options, name));
  return results;
}

/** Where a type's run begins: the interrupted run's position and cursor, or a new snapshot. */
async function begin(options: BackfillOptions, name: MirrorName) {
  const { sql } = options;
  const [stored] = await sql<ProgressRow[]>`
    select started_at, since, listed, written, last_id, finished_at
    from public.stripe_backfill_progress where object_type = ${name}`;
  if (stored && stored.finished_at === null && !options.restart) {
    const storedSince = stored.since ? seconds(stored.since) : undefined;
    if (options.since !== undefined && seconds(options.since) !== storedSince) {
      throw new BackfillUsageError(
        `${name}: the interrupted run used ${stored.since ? `--since ${stored.since.toISOString()}` : "no --since"}; ` +
          `run it again with that, or add --restart to start over with yours`,
      );
    }
    return {
      resumed: true, startedAt: seconds(stored.started_at), since: stored.since ?? undefined,
      cursor: stored.last_id ?? undefined, listed: stored.listed, written: stored.written,
    };
  }
  const startedAt = options.now?.() ?? Math.floor(Date.now() / 1000);
  await sql`
    insert into public.stripe_backfill_progress (object_type, started_at, since, listed, written, last_id, finished_at)
    values (${name}, to_timestamp(${startedAt}), ${options.since ?? null}, 0, 0, null, null)
    on conflict (object_type) do update set started_at = excluded.started_at, since = excluded.since,
      listed = 0, written = 0, last_id = null, finished_at = null`;
  return { resumed: false, startedAt, since: options.since, cursor: undefined, listed: 0, written: 0 };
}

async function backfillType(options: BackfillOptions, name: MirrorName): Promise<TypeProgress> {
  const { sql, stripe } = options;
  const log = options.log ?? (() => {});
  const limit = options.limit ?? 100;
  const start = await begin(options, name);
  const { startedAt, since } = start;
  let cursor = start.cursor;
  if (start.resumed) {
    log(`${name}: resuming after ${cursor ?? "the start"} (${start.listed} listed so far, snapshot at ${new Date(startedAt * 1000).toISOString()})`);
  }
  let pages = 0;
  const progress: TypeProgress = {
    name, startedAt, resumed: start.resumed, listed: start.listed, written: start.written, keptNewer: start.listed - start.written,
  };

  // One transaction per page: the objects and the progress row move together, so a resumed
  // run neither skips nor repeats a page. A canceled subscription is what
  // customer.subscription.deleted leaves, so it is written as deleted, as that event writes it.
  const flush = async (page: { id: string }[]) => {
    if (page.length === 0) return;
    pages += 1;
    const objects = jsonb(sql, page);
    const [row] = await sql.begin(async (tx) => {
      const [{ written }] = await tx<{ written: number }[]>`
        select count(*) filter (where applied)::int as written from (
          select public.stripe_mirror_write(o, ${startedAt}, 1, '',
            coalesce(o ->> 'object' = 'subscription' and o ->> 'status' = 'canceled', false)) as applied
          from jsonb_array_elements(${objects}) o) w`;
      return await tx<{ listed: number; written: number }[]>`
        update public.stripe_backfill_progress
        set listed = listed + ${page.length}, written = written + ${written}, last_id = ${page.at(-1)!.id}
        where object_type = ${name} returning listed, written`;
    });
    cursor = page.at(-1)!.id;
    Object.assign(progress, { listed: row.listed, written: row.written, keptNewer: row.listed - row.written });
    log(progressLine(progress));
    await options.onPage?.({ ...progress });
  };

  const maxRetries = options.rateLimitRetries ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let attempt = 0;
  for (;;) {
    const page: { id: string }[] = [];
    try {
      const params: ListParams = { limit };
      if (since) params.created = { gte: seconds(since) };
      if (cursor) params.starting_after = cursor;
      for await (const object of LISTS[name](stripe, params)) {
        page.push(object);
        if (page.length === limit) {
          await flush(page.splice(0));
          attempt = 0;
        }
      }
      await flush(page.splice(0));
      break;
    } catch (error) {
      // What was listed before the failure is kept, so the retry or a resumed run goes on from it.
      await flush(page.splice(0));
      if (!isRateLimit(error) || attempt >= maxRetries) throw error;
      attempt += 1;
      const delay = rateLimitDelay(error, attempt);
      log(`${name}: rate limited (429), retrying in ${delay} ms (${attempt}/${maxRetries})`);
      await sleep(delay);
    }
  }
  if (pages === 0) log(progressLine(progress));
  await sql`update public.stripe_backfill_progress set finished_at = now() where object_type = ${name}`;
  return progress;
}
