import { loadAverage } from "./cpu.ts";
import { type LoadResult, median, round } from "./load.ts";

/** One handler's run: throughput and latency, with CPU ms per event of the cluster's Postgres processes and of its Deno process. */
export interface Measured extends LoadResult {
  pgCpuMs: number;
  denoCpuMs: number;
}

/** One round at one concurrency: the INSERT floor and the three handlers. */
export interface RoundResult {
  base: LoadResult;
  vas: Measured;
  byHand: Measured;
  fn: Measured;
}

/** The line printed after each round. */
export function roundLine(r: number, concurrency: number, { base, vas, byHand, fn }: RoundResult): string {
  const handler = (name: string, x: Measured) =>
    `${name} ${round(x.perSecond)}/s p50 ${round(x.p50Ms, 2)} p99 ${round(x.p99Ms, 2)}`;
  return `  round ${r + 1}, c=${concurrency}: INSERT ${round(base.perSecond)}/s; ${handler("verify-and-store", vas)}; ` +
    `${handler("by-hand", byHand)}; ${handler("stripe-webhook", fn)} ` +
    `(stripe-webhook ÷ by-hand ${round(fn.perSecond / byHand.perSecond, 3)}) ` +
    `(load ${loadAverage()})`;
}

/** The medians over one concurrency's rounds, as the bench's JSON line. */
export function summarise(concurrency: number, all: RoundResult[]) {
  const m = (pick: (x: RoundResult) => number, digits = 1) => round(median(all.map(pick)), digits);
  return {
    bench: "stripe-webhook",
    concurrency,
    rounds: all.length,
    events_per_s: m((x) => x.fn.perSecond),
    p50_ms: m((x) => x.fn.p50Ms, 2),
    p99_ms: m((x) => x.fn.p99Ms, 2),
    baseline_per_s: m((x) => x.base.perSecond),
    baseline_p99_ms: m((x) => x.base.p99Ms, 2),
    ratio: m((x) => x.fn.perSecond / x.base.perSecond, 3),
    verify_and_store_per_s: m((x) => x.vas.perSecond),
    verify_and_store_p50_ms: m((x) => x.vas.p50Ms, 2),
    verify_and_store_p99_ms: m((x) => x.vas.p99Ms, 2),
    ratio_verify_and_store: m((x) => x.fn.perSecond / x.vas.perSecond, 3),
    by_hand_per_s: m((x) => x.byHand.perSecond),
    by_hand_p50_ms: m((x) => x.byHand.p50Ms, 2),
    by_hand_p99_ms: m((x) => x.byHand.p99Ms, 2),
    ratio_by_hand: m((x) => x.fn.perSecond / x.byHand.perSecond, 3),
    pg_cpu_ms_per_event: m((x) => x.fn.pgCpuMs, 3),
    deno_cpu_ms_per_event: m((x) => x.fn.denoCpuMs, 3),
    verify_and_store_pg_cpu_ms_per_event: m((x) => x.vas.pgCpuMs, 3),
    verify_and_store_deno_cpu_ms_per_event: m((x) => x.vas.denoCpuMs, 3),
    by_hand_pg_cpu_ms_per_event: m((x) => x.byHand.pgCpuMs, 3),
    by_hand_deno_cpu_ms_per_event: m((x) => x.byHand.denoCpuMs, 3),
    load_average: loadAverage(),
  };
}

/** The table, the ratios per concurrency and the JSON lines (c=16 last, with every concurrency in it). */
export function printSummary(results: ReturnType<typeof summarise>[]): void {
  console.log("");
  console.log("| c | handler | events/s | p50 ms | p99 ms | PG CPU ms/event | Deno CPU ms/event |");
  console.log("|---|---|---|---|---|---|---|");
  for (const line of results) {
    console.log(`| ${line.concurrency} | INSERT baseline | ${line.baseline_per_s} | | ${line.baseline_p99_ms} | | |`);
    console.log(
      `| ${line.concurrency} | verify-and-store | ${line.verify_and_store_per_s} | ${line.verify_and_store_p50_ms} | ` +
        `${line.verify_and_store_p99_ms} | ${line.verify_and_store_pg_cpu_ms_per_event} | ${line.verify_and_store_deno_cpu_ms_per_event} |`,
    );
    console.log(
      `| ${line.concurrency} | by-hand | ${line.by_hand_per_s} | ${line.by_hand_p50_ms} | ` +
        `${line.by_hand_p99_ms} | ${line.by_hand_pg_cpu_ms_per_event} | ${line.by_hand_deno_cpu_ms_per_event} |`,
    );
    console.log(
      `| ${line.concurrency} | stripe-webhook | ${line.events_per_s} | ${line.p50_ms} | ${line.p99_ms} | ` +
        `${line.pg_cpu_ms_per_event} | ${line.deno_cpu_ms_per_event} |`,
    );
  }
  for (const line of results) {
    console.log(
      `  c=${line.concurrency}: stripe-webhook ÷ INSERT ${line.ratio}; stripe-webhook ÷ verify-and-store ${line.ratio_verify_and_store}; ` +
        `stripe-webhook ÷ by-hand ${line.ratio_by_hand} (medians of ${line.rounds}, load average ${line.load_average})`,
    );
  }
  const [c16, ...others] = results;
  for (const line of others) console.log(JSON.stringify(line));
  console.log(JSON.stringify({ ...c16, by_concurrency: results }));
}
