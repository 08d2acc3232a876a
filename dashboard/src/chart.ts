import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** One bucket of the series API. */
export interface Bucket {
  start: string;
  total: number;
  processed: number;
  failed: number;
}

/**
 * Events per bucket and the success rate, drawn with uPlot (about 45 KB, canvas, fast on
 * thousands of points). Replaces whatever chart `target` held.
 */
export function drawSeries(target: HTMLElement, buckets: Bucket[]): void {
  target.replaceChildren();
  if (buckets.length === 0) return;
  const x = buckets.map((b) => Date.parse(b.start) / 1000);
  const totals = buckets.map((b) => Number(b.total));
  const rates = buckets.map((b) => (b.processed + b.failed > 0 ? (100 * b.processed) / (b.processed + b.failed) : null));
  const width = Math.max(280, Math.min(target.clientWidth || 900, 1200));
  new uPlot({
    width,
    height: 220,
    series: [
      {},
      { label: "Events", stroke: "#2563eb", fill: "rgba(37, 99, 235, 0.12)", scale: "n" },
      { label: "Success %", stroke: "#16a34a", scale: "%" },
    ],
    axes: [{}, { scale: "n", label: "events" }, { scale: "%", side: 1, label: "%", grid: { show: false } }],
    scales: { "%": { range: [0, 100] } },
  }, [x, totals, rates as number[]], target);
}
