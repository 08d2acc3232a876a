/**
 * The soak's pure analysis: percentiles, per-minute buckets, and whether a series stayed flat.
 * No I/O here, so tests/unit/soak-analysis.test.ts can pin every threshold.
 */

/** The soak's pass thresholds; every one is documented in the README's Resilience section. */
export interface SoakThresholds {
  /** How long after the load starts samples are ignored, while pools, JITs and caches warm up. */
  warmupMs: number;
  /** Median RSS of the last third may exceed the first third's by at most this ratio... */
  maxRssGrowth: number;
  /** ...unless the growth is below this many bytes (an idle 40 MB process growing 6 MB is noise)... */
  rssSlackBytes: number;
  /** ...or the last third's median is within this ratio of the first third's peak (a GC sawtooth). */
  maxPeakGrowth: number;
  /** The last full minute's p99 may be at most this multiple of the first full minute's... */
  maxP99Ratio: number;
  /** ...or under this ceiling, whichever is more lenient. */
  p99CeilingMs: number;
  /** After the load stops, the queues must be empty within this. */
  drainWithinMs: number;
}

export const DEFAULT_THRESHOLDS: SoakThresholds = {
  warmupMs: 60_000,
  maxRssGrowth: 1.2,
  rssSlackBytes: 16 * 1024 * 1024,
  maxPeakGrowth: 1.1,
  maxP99Ratio: 2,
  p99CeilingMs: 250,
  drainWithinMs: 60_000,
};

/** The `p` quantile (0..1) of `values` by nearest rank; NaN for none. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil(p * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export const median = (values: readonly number[]) => percentile(values, 0.5);

/** How a memory series moved: the medians of its first and last thirds after the warm-up. */
export interface Growth {
  first: number;
  last: number;
  /** last / first. */
  ratio: number;
  /** last - first. */
  delta: number;
  /** The highest sample of the first third, and last / that. */
  firstPeak: number;
  peakRatio: number;
  samples: number;
  flat: boolean;
}

/**
 * Whether a series of `{ at, value }` (at: ms since the load started) stayed flat: the median of
 * the last third of the samples after `warmupMs` against the first third. Flat when any of:
 * the ratio to the first third's median is under `maxRssGrowth`; the growth is under
 * `rssSlackBytes`; or the last third's median stays within `maxPeakGrowth` of the first third's
 * peak. The last one is for garbage-collected heaps, which saw between the same bounds (a
 * first third that caught the troughs is not a leak); a leak climbs past its earlier peaks.
 * Fewer than 3 samples after the warm-up cannot say, and count as flat with `samples` telling why.
 */
export function growth(
  series: readonly { at: number; value: number }[],
  thresholds: Pick<SoakThresholds, "warmupMs" | "maxRssGrowth" | "rssSlackBytes" | "maxPeakGrowth"> = DEFAULT_THRESHOLDS,
): Growth {
  const kept = series.filter((s) => s.at >= thresholds.warmupMs).map((s) => s.value);
  if (kept.length < 3) {
    return { first: NaN, last: NaN, ratio: NaN, delta: NaN, firstPeak: NaN, peakRatio: NaN, samples: kept.length, flat: true };
  }
  const third = Math.floor(kept.length / 3);
  const first = median(kept.slice(0, third));
  const firstPeak = Math.max(...kept.slice(0, third));
  const last = median(kept.slice(kept.length - third));
  const ratio = last / first;
  const delta = last - first;
  const peakRatio = last / firstPeak;
  const flat = ratio < thresholds.maxRssGrowth || delta < thresholds.rssSlackBytes || peakRatio < thresholds.maxPeakGrowth;
  return { first, last, ratio, delta, firstPeak, peakRatio, samples: kept.length, flat };
}

/** One minute of the load: how many requests, and their latency percentiles. */
export interface MinuteLatency {
  minute: number;
  count: number;
  p50: number;
  p99: number;
}

/** Buckets `{ at, ms }` latencies by minute of `at` (ms since the load started), minutes 0..minutes-1. */
export function latencyPerMinute(latencies: readonly { at: number; ms: number }[], minutes: number): MinuteLatency[] {
  const buckets = Array.from({ length: minutes }, () => [] as number[]);
  for (const { at, ms } of latencies) {
    const minute = Math.floor(at / 60_000);
    if (minute >= 0 && minute < minutes) buckets[minute].push(ms);
  }
  return buckets.map((b, minute) => ({ minute, count: b.length, p50: percentile(b, 0.5), p99: percentile(b, 0.99) }));
}

/**
 * Whether p99 stayed flat: the last minute against the first full minute after the warm-up
 * (minute 0 holds it), flat when within `maxP99Ratio` of it or under the ceiling.
 */
export function p99Flat(
  minutes: readonly MinuteLatency[],
  thresholds: Pick<SoakThresholds, "warmupMs" | "maxP99Ratio" | "p99CeilingMs"> = DEFAULT_THRESHOLDS,
): { first: number; last: number; ratio: number; flat: boolean } {
  const fromMinute = Math.min(Math.ceil(thresholds.warmupMs / 60_000), minutes.length - 1);
  const full = minutes.filter((m) => m.count > 0 && m.minute >= fromMinute);
  if (full.length === 0) return { first: NaN, last: NaN, ratio: NaN, flat: false };
  const first = full[0].p99;
  const last = full[full.length - 1].p99;
  const ratio = last / first;
  return { first, last, ratio, flat: last <= thresholds.p99CeilingMs || ratio <= thresholds.maxP99Ratio };
}

/** Bytes in a MB, as the soak reports memory. */
export const MB = 1024 * 1024;

/** `n` to `digits` decimals, for the soak's figures; NaN and infinities as they are. */
export const round = (n: number, digits = 1) => (Number.isFinite(n) ? Number(n.toFixed(digits)) : n);
