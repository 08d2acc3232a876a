import { describe, expect, it } from "vitest";
import { DEFAULT_THRESHOLDS, growth, latencyPerMinute, median, p99Flat, percentile } from "../../dev/chaos/soak-analysis.ts";

const MB = 1024 * 1024;
/** One sample every 10 s for `minutes`, valued by `f(at)`. */
const series = (minutes: number, f: (at: number) => number) =>
  Array.from({ length: minutes * 6 + 1 }, (_, i) => ({ at: i * 10_000, value: f(i * 10_000) }));

describe("soak analysis: percentiles", () => {
  it("takes the nearest rank, and NaN for nothing", () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile([7], 0.99)).toBe(7);
    expect(median([3, 1, 2])).toBe(2);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe("soak analysis: memory growth", () => {
  it("calls a flat series flat, whatever it did during the warm-up", () => {
    const g = growth(series(10, (at) => (at < 60_000 ? 50 * MB + at * 1000 : 200 * MB + (at % 20_000 === 0 ? MB : 0))));
    expect(g.flat).toBe(true);
    expect(g.samples).toBe(55);
    expect(g.ratio).toBeCloseTo(1, 1);
  });

  it("calls a steady climb of more than 20% (and more than the slack) growth", () => {
    // 100 MB climbing 10 MB a minute: the first third's median is ~125 MB, the last ~185 MB.
    const g = growth(series(10, (at) => 100 * MB + (at / 60_000) * 10 * MB));
    expect(g.flat).toBe(false);
    expect(g.ratio).toBeGreaterThan(1.2);
    expect(g.last).toBeGreaterThan(g.first);
  });

  it("calls a garbage-collected sawtooth flat when its first third caught the troughs", () => {
    // Climbs to 135 MB, falls to 85 MB twice in the first minutes, then stays near 135 MB:
    // the medians say ×1.3, but the last third never passes the first third's peak.
    const values = [134, 134, 81, 86, 92, 97, 107, 85, 90, 95, 107, 109, 117, 131, ...Array(40).fill(135)];
    const g = growth(values.map((v, i) => ({ at: 60_000 + i * 10_000, value: v * MB })));
    expect(g.ratio).toBeGreaterThan(1.2);
    expect(g.peakRatio).toBeCloseTo(1, 2);
    expect(g.flat).toBe(true);
  });

  it("forgives a large ratio on a small process when the bytes are few", () => {
    const g = growth(series(10, (at) => 20 * MB + (at / 600_000) * 12 * MB));
    expect(g.ratio).toBeGreaterThan(1.2);
    expect(g.delta).toBeLessThan(DEFAULT_THRESHOLDS.rssSlackBytes);
    expect(g.flat).toBe(true);
  });

  it("takes the thresholds it is given", () => {
    const climbing = series(10, (at) => 100 * MB + (at / 60_000) * 2 * MB);
    expect(growth(climbing).flat).toBe(true);
    expect(growth(climbing, { warmupMs: 60_000, maxRssGrowth: 1.05, rssSlackBytes: MB, maxPeakGrowth: 1.01 }).flat).toBe(false);
  });

  it("cannot judge fewer than 3 samples after the warm-up, and says so", () => {
    const g = growth([{ at: 0, value: MB }, { at: 70_000, value: 9 * MB }, { at: 80_000, value: 9 * MB }]);
    expect(g).toMatchObject({ samples: 2, flat: true });
    expect(g.ratio).toBeNaN();
  });
});

describe("soak analysis: latency per minute and p99 flatness", () => {
  const latencies = [
    ...Array.from({ length: 100 }, (_, i) => ({ at: 1_000 + i, ms: i === 99 ? 900 : 10 })),
    ...Array.from({ length: 100 }, (_, i) => ({ at: 61_000 + i, ms: i < 2 ? 40 : 12 })),
    ...Array.from({ length: 100 }, (_, i) => ({ at: 121_000 + i, ms: i < 2 ? 70 : 12 })),
  ];

  it("buckets by minute of the schedule and drops what falls outside", () => {
    const minutes = latencyPerMinute([...latencies, { at: 200_000, ms: 1 }, { at: -5, ms: 1 }], 3);
    expect(minutes.map((m) => m.count)).toEqual([100, 100, 100]);
    expect(minutes[0]).toMatchObject({ p50: 10, p99: 10 });
    expect(minutes[1]).toMatchObject({ p50: 12, p99: 40 });
    expect(latencyPerMinute([], 2)[1].p99).toBeNaN();
  });

  it("compares the last minute with the first after the warm-up, not minute 0", () => {
    const minutes = latencyPerMinute(latencies, 3);
    // Minute 0's 900 ms outlier is the warm-up; against minute 1 (40 ms) 70 ms is within 2×.
    expect(p99Flat(minutes, { ...DEFAULT_THRESHOLDS, p99CeilingMs: 0 })).toMatchObject({ first: 40, last: 70, flat: true });
  });

  it("fails a p99 that more than doubled and is over the ceiling; the ceiling forgives a small one", () => {
    const minutes = latencyPerMinute(latencies.map((l) => (l.at > 120_000 && l.ms === 70 ? { ...l, ms: 300 } : l)), 3);
    expect(p99Flat(minutes).flat).toBe(false);
    expect(p99Flat(minutes, { ...DEFAULT_THRESHOLDS, p99CeilingMs: 400 }).flat).toBe(true);
  });

  it("is not flat when there was nothing to measure", () => {
    expect(p99Flat(latencyPerMinute([], 3)).flat).toBe(false);
  });
});
