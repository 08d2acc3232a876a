import { describe, expect, it } from "vitest";
import { rateExcess } from "../../dev/chaos/partner-receiver.ts";

// The partner-outage checker's measure of a rate limit at the receiver: a pass there is only
// worth something if a burst beyond the bucket fails it.
describe("rateExcess", () => {
  const spaced = (n: number, everyMs: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * everyMs);

  it("finds no excess in arrivals paced at the rate after a full burst", () => {
    const times = [...spaced(10, 1), ...spaced(50, 100, 1000)];
    expect(rateExcess(times, 10, 10, 0.25)).toBeLessThanOrEqual(0);
  });

  it("counts arrivals beyond the bucket in the worst window", () => {
    // 30 within 29 ms: a bucket of 10 refilled at 10/s allows 10 + 10 × (0.029 + 0.25) ≈ 12.8.
    expect(rateExcess(spaced(30, 1), 10, 10, 0.25)).toBe(18);
  });

  it("catches a second burst after too short a pause", () => {
    const times = [...spaced(10, 1), ...spaced(10, 1, 300)];
    expect(rateExcess(times, 10, 10, 0.25)).toBeGreaterThan(0);
  });

  it("has nothing to say about no arrivals", () => {
    expect(rateExcess([], 10, 10, 0.25)).toBe(0);
  });
});
