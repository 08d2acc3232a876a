import postgres from "postgres";
import { signStripePayload, stripeEvent } from "../dev/stripe/fixtures.ts";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { jsonbFromText } from "../supabase/functions/_shared/sql-json.ts";
import { createPoster } from "./lib/http.ts";
import { type LoadResult, round, runLoad, withRedeliveries } from "./lib/load.ts";
import type { ServedFunction } from "../dev/stack/functions.ts";
import { clusterCpu, loadAverage, measureCpu, postmasterPid, processCpu } from "./lib/cpu.ts";
import { startVerifyAndStore } from "./lib/verify-and-store.ts";

export const EVENTS = Number(process.env.BENCH_EVENTS ?? 4000);
const DUPLICATE_SHARE = 0.1;
export const CONCURRENCIES = [16, 64];

export interface Prepared {
  payload: string;
  signature: string;
}

// A fifth of the distinct events are customer.subscription.updated for 50 subscriptions, so
// the mix writes the Stripe mirror (and meets its position guard) as a shop's traffic does.
const SUBSCRIPTION_SHARE = 0.2;
const SUBSCRIPTIONS = 50;

/**
 * Signed events: payment_intent.succeeded for distinct pending orders and
 * customer.subscription.updated for a few subscriptions, with every tenth a redelivery of an
 * earlier event, as Stripe's retries produce. Signed before timing starts, so the load
 * generator's HMACs are not counted against the function.
 */
export async function prepareEvents(sql: postgres.Sql, secret: string): Promise<Prepared[]> {
  const unique = Math.round(EVENTS * (1 - DUPLICATE_SHARE));
  const updates = Math.round(unique * SUBSCRIPTION_SHARE);
  const orders = await sql`
    insert into public.orders (amount_total, currency)
    select 4200, 'usd' from generate_series(1, ${unique - updates}) returning id`;
  const now = Math.floor(Date.now() / 1000);
  const samples = [
    ...orders.map(({ id }) => stripeEvent("payment_intent.succeeded", { orderId: id as string })),
    ...Array.from({ length: updates }, (_, i) =>
      stripeEvent("customer.subscription.updated", {
        subscriptionId: `sub_bench${i % SUBSCRIPTIONS}`,
        customerId: `cus_bench${i % SUBSCRIPTIONS}`,
        created: now - (i % 7),
      })),
  ];
  const originals = await Promise.all(samples.map(async (event) => {
    const payload = JSON.stringify(event);
    return { payload, signature: await signStripePayload(payload, secret) };
  }));
  return withRedeliveries(originals, EVENTS);
}

/**
 * The cost floor: one durable single-row INSERT transaction per event, carrying the same
 * payload, through the same `postgres` package at the same concurrency.
 */
async function baseline(url: string, events: Prepared[], concurrency: number, run: number): Promise<LoadResult> {
  const sql = postgres(url, { max: concurrency, prepare: false, onnotice: () => {} });
  await sql`create table if not exists bench_baseline (id bigint generated always as identity primary key, event_id text unique, payload jsonb)`;
  await sql`select 1`;
  try {
    return await runLoad(events.length, concurrency, async (i) => {
      await sql`insert into bench_baseline (event_id, payload) values (${`${run}:${i}`}, ${jsonbFromText(sql, events[i].payload)})`;
    });
  } finally {
    await sql.end();
  }
}

export async function functionLoad(url: string, events: Prepared[], concurrency: number, name = "stripe-webhook"): Promise<LoadResult> {
  const client = createPoster(concurrency);
  try {
    return await runLoad(events.length, concurrency, async (i) => {
      const response = await client.post(url, events[i].payload, { "stripe-signature": events[i].signature });
      if (response.status !== 200) throw new Error(`${name} answered ${response.status}: ${response.body}`);
    });
  } finally {
    client.close();
  }
}

/** Rounds per concurrency (`--rounds N` or BENCH_ROUNDS); figures are medians over them. */
const rounds = () => Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

const median = (values: number[]) => {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

interface Measured extends LoadResult {
  /** CPU ms per event, of the cluster's Postgres processes and of the handler's Deno process. */
  pgCpuMs: number;
  denoCpuMs: number;
}

interface RoundResult {
  base: LoadResult;
  vas: Measured;
  fn: Measured;
}

/** `npm run bench -- stripe-webhook`: the function against one INSERT per event, and against a bare verify-and-store handler. */
export async function benchStripeWebhook(): Promise<void> {
  const ROUNDS = rounds();
  console.log(
    `stripe-webhook: ${EVENTS} signed events per run (${SUBSCRIPTION_SHARE * 100}% subscription updates for the mirror, ` +
      `${DUPLICATE_SHARE * 100}% redeliveries), concurrency ${CONCURRENCIES.join(" and ")}, ${ROUNDS} round(s), medians`,
  );
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
  const functionEnv = { LOG_LEVEL: "warn", DB_POOL_MAX: "20" };
  const stack = await startThrowawayStack("bench-stripe", functionEnv, process.env.BENCH_DATABASE_URL);
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  let vasFn: ServedFunction | undefined;
  try {
    const [fn] = stack.functions.filter((f) => f.name === "stripe-webhook");
    // Straight to the Deno server: on Supabase the gateway in front is theirs, not ours.
    const url = `http://127.0.0.1:${fn.port}/stripe-webhook`;
    const secret = stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    vasFn = await startVerifyAndStore(sql, { ...stack.env, ...functionEnv }, (line) => console.error(line));
    const vasUrl = `http://127.0.0.1:${vasFn.port}/`;
    const postmaster = await postmasterPid(sql);
    const pgCpu = () => (postmaster ? clusterCpu(postmaster) : NaN);
    const measured = async (target: string, served: ServedFunction, events: Prepared[], concurrency: number, name: string) => {
      const { result, cpu } = await measureCpu(
        { pg: pgCpu, deno: () => processCpu(served.process.pid!) },
        () => functionLoad(target, events, concurrency, name),
      );
      return { ...result, pgCpuMs: (cpu.pg * 1000) / result.count, denoCpuMs: (cpu.deno * 1000) / result.count };
    };
    const warm = await prepareEvents(sql, secret);
    await functionLoad(url, warm.slice(0, 200), 8);
    await functionLoad(vasUrl, warm.slice(0, 200), 8, "verify-and-store");
    const rounds = new Map<number, RoundResult[]>(CONCURRENCIES.map((c) => [c, []]));
    let run = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const concurrency of CONCURRENCIES) {
        const events = await prepareEvents(sql, secret);
        const base = await baseline(stack.env.DATABASE_URL, events, concurrency, run++);
        // Alternate which handler goes first, so a drift of the shared machine favours neither.
        let vas: Measured, fnResult: Measured;
        if (r % 2 === 0) {
          vas = await measured(vasUrl, vasFn, events, concurrency, "verify-and-store");
          fnResult = await measured(url, fn, events, concurrency, "stripe-webhook");
        } else {
          fnResult = await measured(url, fn, events, concurrency, "stripe-webhook");
          vas = await measured(vasUrl, vasFn, events, concurrency, "verify-and-store");
        }
        rounds.get(concurrency)!.push({ base, vas, fn: fnResult });
        console.log(
          `  round ${r + 1}, c=${concurrency}: INSERT ${round(base.perSecond)}/s; verify-and-store ${round(vas.perSecond)}/s ` +
            `p50 ${round(vas.p50Ms, 2)} p99 ${round(vas.p99Ms, 2)}; stripe-webhook ${round(fnResult.perSecond)}/s ` +
            `p50 ${round(fnResult.p50Ms, 2)} p99 ${round(fnResult.p99Ms, 2)} (load ${loadAverage()})`,
        );
      }
    }
    const results = CONCURRENCIES.map((concurrency) => {
      const all = rounds.get(concurrency)!;
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
        pg_cpu_ms_per_event: m((x) => x.fn.pgCpuMs, 3),
        deno_cpu_ms_per_event: m((x) => x.fn.denoCpuMs, 3),
        verify_and_store_pg_cpu_ms_per_event: m((x) => x.vas.pgCpuMs, 3),
        verify_and_store_deno_cpu_ms_per_event: m((x) => x.vas.denoCpuMs, 3),
        load_average: loadAverage(),
      };
    });
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
        `| ${line.concurrency} | stripe-webhook | ${line.events_per_s} | ${line.p50_ms} | ${line.p99_ms} | ` +
          `${line.pg_cpu_ms_per_event} | ${line.deno_cpu_ms_per_event} |`,
      );
    }
    for (const line of results) {
      console.log(
        `  c=${line.concurrency}: stripe-webhook ÷ INSERT ${line.ratio}; stripe-webhook ÷ verify-and-store ${line.ratio_verify_and_store}` +
          ` (medians of ${line.rounds}, load average ${line.load_average})`,
      );
    }
    const [c16, ...others] = results;
    for (const line of others) console.log(JSON.stringify(line));
    console.log(JSON.stringify({ ...c16, by_concurrency: results }));
  } finally {
    await vasFn?.stop();
    await sql.end();
    await stack.dispose();
  }
}
