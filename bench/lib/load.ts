/** Result of one load run. */
export interface LoadResult {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The q-quantile (0..1) of sorted values, by nearest rank. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Runs `task(0..count-1)` with `concurrency` in flight at once and measures throughput and
 * per-task latency. A failed task fails the run: a benchmark of errors measures nothing.
 */
export async function runLoad(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies = new Array<number>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const start = performance.now();
      await task(i);
      latencies[i] = performance.now() - start;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count,
    seconds,
    perSecond: count / seconds,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };
}

/** Rounds for printing. */
export const round = (value: number, digits = 1) => Number(value.toFixed(digits));

/** The median of the finite values (NaN when there are none). */
export const median = (values: number[]) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Rounds a bench repeats (`--rounds N` or BENCH_ROUNDS, default 3); its figures are medians over them. */
export const benchRounds = () => Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/**
 * `total` events from `originals`, with the missing ones redeliveries of earlier events,
 * spread through the run rather than bunched at the end, as providers' retries arrive.
 */
export function withRedeliveries<T>(originals: T[], total: number): T[] {
  const events = [...originals];
  for (let i = 0; events.length < total; i++) events.push(originals[(i * 7) % originals.length]);
  for (let i = events.length - 1; i > 0; i--) {
    const j = (i * 2654435761) % (i + 1);
    [events[i], events[j]] = [events[j], events[i]];
  }
  return events;
}
