import type { Sql } from "../_shared/db.ts";
import type { AuthorizedCaller } from "../_shared/http/caller-auth.ts";

/** One bucket of the chart: its start and the inbound events received in it. */
export interface Bucket {
  start: Date;
  total: number;
  processed: number;
  failed: number;
}

/** GET /operations/series' answer: the buckets oldest first, and their sums. */
export interface Series {
  window_minutes: number;
  bucket_minutes: number;
  component: string | null;
  from: Date;
  to: Date;
  totals: { total: number; processed: number; failed: number };
  buckets: Bucket[];
}

/**
 * Inbound events per bucket, computed by `public.ops_event_series` (see its migration for the
 * alignment of the buckets), scoped to the caller: a tenant's admin counts its own sources only.
 */
export async function eventSeries(
  sql: Sql,
  caller: AuthorizedCaller,
  query: { window: number; bucket: number; component?: string },
): Promise<Series> {
  const rows = await sql<(Bucket & { now: Date })[]>`
    select s.bucket_start as start, s.total::int as total, s.processed::int as processed, s.failed::int as failed,
           now() as now
    from public.ops_event_series(${query.window}, ${query.bucket}, ${query.component ?? null},
                                 ${caller.kind === "tenant" ? caller.tenantId : null}::uuid) s`;
  const buckets = rows.map(({ now: _, ...bucket }) => bucket);
  const sum = (key: "total" | "processed" | "failed") => buckets.reduce((total, b) => total + b[key], 0);
  // A window of at least a minute has at least one bucket: rows[0] is always there.
  return {
    window_minutes: query.window,
    bucket_minutes: query.bucket,
    component: query.component ?? null,
    from: rows[0].start,
    to: rows[0].now,
    totals: { total: sum("total"), processed: sum("processed"), failed: sum("failed") },
    buckets,
  };
}
