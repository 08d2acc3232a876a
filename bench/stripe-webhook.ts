import postgres from "postgres";
import { signStripePayload, stripeEvent } from "../dev/stripe/fixtures.ts";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { jsonbFromText } from "../supabase/functions/_shared/sql-json.ts";
import { createPoster } from "./lib/http.ts";
import { type LoadResult, round, runLoad, withRedeliveries } from "./lib/load.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 4000);
const DUPLICATE_SHARE = 0.1;
const CONCURRENCIES = [16, 64];

interface Prepared {
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
async function prepareEvents(sql: postgres.Sql, secret: string): Promise<Prepared[]> {
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

async function functionLoad(url: string, events: Prepared[], concurrency: number): Promise<LoadResult> {
  const client = createPoster(concurrency);
  try {
    return await runLoad(events.length, concurrency, async (i) => {
      const response = await client.post(url, events[i].payload, { "stripe-signature": events[i].signature });
      if (response.status !== 200) throw new Error(`stripe-webhook answered ${response.status}: ${response.body}`);
    });
  } finally {
    client.close();
  }
}

/** `npm run bench -- stripe-webhook`: the function against one INSERT per event. */
export async function benchStripeWebhook(): Promise<void> {
  console.log(
    `stripe-webhook: ${EVENTS} signed events per run (${SUBSCRIPTION_SHARE * 100}% subscription updates for the mirror, ` +
      `${DUPLICATE_SHARE * 100}% redeliveries), concurrency ${CONCURRENCIES.join(" and ")}`,
  );
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
  const stack = await startThrowawayStack("bench-stripe", { LOG_LEVEL: "warn", DB_POOL_MAX: "20" }, process.env.BENCH_DATABASE_URL);
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  try {
    const [fn] = stack.functions.filter((f) => f.name === "stripe-webhook");
    // Straight to the Deno server: on Supabase the gateway in front is theirs, not ours.
    const url = `http://127.0.0.1:${fn.port}/stripe-webhook`;
    const secret = stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    await functionLoad(url, (await prepareEvents(sql, secret)).slice(0, 200), 8);
    const results = [];
    for (const [run, concurrency] of CONCURRENCIES.entries()) {
      const events = await prepareEvents(sql, secret);
      console.log(`  concurrency ${concurrency}: baseline INSERTs...`);
      const base = await baseline(stack.env.DATABASE_URL, events, concurrency, run);
      console.log(`  concurrency ${concurrency}: stripe-webhook...`);
      const fnResult = await functionLoad(url, events, concurrency);
      const line = {
        bench: "stripe-webhook",
        concurrency,
        events_per_s: round(fnResult.perSecond),
        p50_ms: round(fnResult.p50Ms, 2),
        p99_ms: round(fnResult.p99Ms, 2),
        baseline_per_s: round(base.perSecond),
        baseline_p99_ms: round(base.p99Ms, 2),
        ratio: round(fnResult.perSecond / base.perSecond, 3),
      };
      console.log(`  ${line.events_per_s} events/s, p50 ${line.p50_ms} ms, p99 ${line.p99_ms} ms; baseline ${line.baseline_per_s}/s → ratio ${line.ratio}`);
      results.push(line);
    }
    const [c16] = results;
    for (const line of results.slice(1)) console.log(JSON.stringify(line));
    console.log(JSON.stringify(c16));
  } finally {
    await sql.end();
    await stack.dispose();
  }
}
