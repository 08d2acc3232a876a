import type { z } from "zod";
import type { Sql } from "../../_shared/db.ts";
import type { AuthorizedCaller } from "../../_shared/http/caller-auth.ts";
import { HttpError } from "../../_shared/http/errors.ts";
import type { Logger } from "../../_shared/log.ts";

/** What an action runs with. */
export interface ActionContext {
  sql: Sql;
  caller: AuthorizedCaller;
  requestId: string;
  log: Logger;
  /** When to stop starting new batches; the answer then says what remains. */
  deadline: number;
  /** The Stripe object types the mirror keeps (STRIPE_MIRROR), for reprocessing Stripe events. */
  mirrored: ReadonlySet<string>;
}

/** What an action did: how many rows it touched (the audit's figure) and its answer. */
export interface ActionResult {
  touched: number;
  body: Record<string, unknown>;
}

/** One repair action: its parameters, whether only the platform may run it, and what it does. */
export interface Action<P extends { dry_run?: boolean }> {
  params: z.ZodType<P>;
  platformOnly?: boolean;
  run(ctx: ActionContext, params: P): Promise<ActionResult>;
}

/**
 * The most rows one call of a bulk action may touch. Beyond it the filter is refused until it
 * is narrowed, after a dry run has shown the count: 10,000 rows reprocessed at ~5 ms each is
 * under a minute, inside a function's wall-clock limit, and a filter that matches a million
 * is almost always a mistake.
 */
export const BULK_LIMIT = 10_000;

/** Rows per statement of a bulk update or delete: short transactions, so no lock is held on a whole table. */
export const BATCH_ROWS = 1000;

/** 422 `filter_too_broad` for a bulk action whose filter matches more than BULK_LIMIT rows. */
export function refuseIfTooBroad(matched: number): void {
  if (matched > BULK_LIMIT) {
    throw new HttpError(
      422,
      "filter_too_broad",
      `The filter matches ${matched} rows; one call touches at most ${BULK_LIMIT}. Narrow it (a time range, a type, ids).`,
      { details: { matched, limit: BULK_LIMIT } },
    );
  }
}

/**
 * Runs `batch` until it reports fewer rows than BATCH_ROWS or the deadline passes, logging
 * progress; returns the rows done and whether it finished.
 */
export async function inBatches(
  ctx: ActionContext,
  what: string,
  batch: () => Promise<number>,
): Promise<{ done: number; complete: boolean }> {
  let done = 0;
  for (;;) {
    const rows = await batch();
    done += rows;
    if (rows > 0) ctx.log.info(`${what}: progress`, { done });
    if (rows < BATCH_ROWS) return { done, complete: true };
    if (Date.now() > ctx.deadline) return { done, complete: false };
  }
}
