import postgres from "postgres";
import { signStripePayload, stripeEvent } from "../dev/stripe/fixtures.ts";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { jsonbFromText } from "../supabase/functions/_shared/sql-json.ts";
import { createPoster } from "./lib/http.ts";
import { benchRounds, type LoadResult, runLoad, withRedeliveries } from "./lib/load.ts";
import type { ServedFunction } from "../dev/stack/functions.ts";
import { clusterCpu, measureCpu, postmasterPid, processCpu } from "./lib/cpu.ts";
import { startVerifyAndStore } from "./lib/verify-and-store.ts";
import { startByHand } from "./lib/by-hand.ts";
import { type Measured, printSummary, type RoundResult, roundLine, summarise } from "./lib/stripe-report.ts";

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
 * generator's HMACs are not counted against the function. A handler that writes the same tables
 * as stripe-webhook (the by-hand baseline) takes its own set, with its own `subscriptionPrefix`,
 * so neither meets the other's orders, event ids or subscriptions.
 */
export async function prepareEvents(sql: postgres.Sql, secret: string, subscriptionPrefix = "bench"): Promise<Prepared[]> {
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
        subscriptionId: `sub_${subscriptionPrefix}${i % SUBSCRIPTIONS}`,
        customerId: `cus_${subscriptionPrefix}${i % SUBSCRIPTIONS}`,
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

/**
 * `npm run bench -- stripe-webhook`: the function against one INSERT per event, against a bare
 * verify-and-store handler, and against the same work done by hand (bench/baselines/by-hand:
 * direct statements, one round trip each, in one transaction).
 */
export async function benchStripeWebhook(): Promise<void> {
  const ROUNDS = benchRounds();
  console.log(
    `stripe-webhook: ${EVENTS} signed events per run (${SUBSCRIPTION_SHARE * 100}% subscription updates for the mirror, ` +
      `${DUPLICATE_SHARE * 100}% redeliveries), concurrency ${CONCURRENCIES.join(" and ")}, ${ROUNDS} round(s), medians`,
  );
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
  const functionEnv = { LOG_LEVEL: "warn", DB_POOL_MAX: "20" };
  const stack = await startThrowawayStack("bench-stripe", functionEnv, process.env.BENCH_DATABASE_URL);
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  let vasFn: ServedFunction | undefined;
  let byHandFn: ServedFunction | undefined;
  try {
    const [fn] = stack.functions.filter((f) => f.name === "stripe-webhook");
    // Straight to the Deno server: on Supabase the gateway in front is theirs, not ours.
    const url = `http://127.0.0.1:${fn.port}/stripe-webhook`;
    const secret = stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    vasFn = await startVerifyAndStore(sql, { ...stack.env, ...functionEnv }, (line) => console.error(line));
    const vasUrl = `http://127.0.0.1:${vasFn.port}/`;
    byHandFn = await startByHand({ ...stack.env, ...functionEnv }, (line) => console.error(line));
    const byHandUrl = `http://127.0.0.1:${byHandFn.port}/`;
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
    await functionLoad(byHandUrl, (await prepareEvents(sql, secret, "byhand")).slice(0, 200), 8, "by-hand");
    const rounds = new Map<number, RoundResult[]>(CONCURRENCIES.map((c) => [c, []]));
    let run = 0;
    for (let r = 0; r < ROUNDS; r++) {
      for (const concurrency of CONCURRENCIES) {
        const events = await prepareEvents(sql, secret);
        // by-hand writes the tables stripe-webhook writes: fresh orders, event ids and subscriptions of its own.
        const byHandEvents = await prepareEvents(sql, secret, "byhand");
        const base = await baseline(stack.env.DATABASE_URL, events, concurrency, run++);
        // Rotate which handler goes first, so a drift of the shared machine favours none.
        const runs = [
          () => measured(vasUrl, vasFn!, events, concurrency, "verify-and-store"),
          () => measured(byHandUrl, byHandFn!, byHandEvents, concurrency, "by-hand"),
          () => measured(url, fn, events, concurrency, "stripe-webhook"),
        ];
        const measuredRuns: Measured[] = [];
        for (let k = 0; k < runs.length; k++) {
          const at = (k + r) % runs.length;
          measuredRuns[at] = await runs[at]();
        }
        const [vas, byHand, fnResult] = measuredRuns;
        const result = { base, vas, byHand, fn: fnResult };
        rounds.get(concurrency)!.push(result);
        console.log(roundLine(r, concurrency, result));
      }
    }
    printSummary(CONCURRENCIES.map((concurrency) => summarise(concurrency, rounds.get(concurrency)!)));
  } finally {
    await byHandFn?.stop();
    await vasFn?.stop();
    await sql.end();
    await stack.dispose();
  }
}
