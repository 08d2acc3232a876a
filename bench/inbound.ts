import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { signStripePayload, stripeEvent } from "../dev/stripe/fixtures.ts";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { genericHmacOptions, genericHmacSignature } from "../supabase/functions/_shared/webhook-verify/generic-hmac.ts";
import { createPoster } from "./lib/http.ts";
import { type LoadResult, round, runLoad, withRedeliveries } from "./lib/load.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 4000);
const DUPLICATE_SHARE = 0.1;
const CONCURRENCIES = [16, 64];

interface Prepared {
  payload: string;
  headers: Record<string, string>;
}

const unique = () => Math.round(EVENTS * (1 - DUPLICATE_SHARE));

/** stripe-webhook's load: payment_intent.succeeded for distinct pending orders (an order update, an email, an outbox row). */
async function stripeEvents(sql: postgres.Sql, secret: string): Promise<Prepared[]> {
  const orders = await sql`
    insert into public.orders (amount_total, currency) select 4200, 'usd' from generate_series(1, ${unique()}) returning id`;
  return withRedeliveries(await Promise.all(orders.map(async ({ id }) => {
    const payload = JSON.stringify(stripeEvent("payment_intent.succeeded", { orderId: id as string }));
    return { payload, headers: { "stripe-signature": await signStripePayload(payload, secret) } };
  })), EVENTS);
}

// The source's SQL handler: what a user maps a carrier's shipment notice onto, one row written.
const HANDLER_SQL = `
  create schema if not exists bench_inbound;
  create table if not exists bench_inbound.shipments (event_id text primary key, order_id uuid, carrier text, tracking text);
  create or replace function bench_inbound.on_shipment(event jsonb, source jsonb) returns text
  language sql set search_path = '' as $$
    insert into bench_inbound.shipments values (event ->> 'id', (event -> 'payload' -> 'data' ->> 'order_id')::uuid,
      event -> 'payload' -> 'data' ->> 'carrier', event -> 'payload' -> 'data' ->> 'tracking_number');
    select 'shipped'
  $$;`;

/** The inbound load: carrier notices signed with a generic HMAC source's secret (hex SHA-256 over a signed timestamp). */
async function inboundEvents(secret: string, options: Record<string, unknown>): Promise<Prepared[]> {
  const settings = genericHmacOptions.parse(options);
  const now = String(Math.floor(Date.now() / 1000));
  return withRedeliveries(await Promise.all(Array.from({ length: unique() }, async () => {
    const payload = JSON.stringify({
      id: `evt_${randomUUID()}`,
      type: "order.shipped",
      created_at: new Date().toISOString(),
      data: { order_id: randomUUID(), carrier: "DHL", tracking_number: "JD014600006281230815" },
    });
    return {
      payload,
      headers: {
        [settings.timestamp_header!]: now,
        [settings.header]: await genericHmacSignature(settings, payload, secret, now),
      },
    };
  })), EVENTS);
}

async function load(url: string, events: Prepared[], concurrency: number, ok: (status: number) => boolean) {
  const client = createPoster(concurrency);
  try {
    return await runLoad(events.length, concurrency, async (i) => {
      const response = await client.post(url, events[i].payload, events[i].headers);
      if (!ok(response.status)) throw new Error(`${url} answered ${response.status}: ${response.body}`);
    });
  } finally {
    client.close();
  }
}

const summary = (result: LoadResult) => `${round(result.perSecond)}/s, p50 ${round(result.p50Ms, 2)} ms, p99 ${round(result.p99Ms, 2)} ms`;

/**
 * `npm run bench -- inbound`: a generic HMAC source with a SQL handler against stripe-webhook,
 * in the same run on the same stack, each straight to its Deno server. The goal is a ratio of
 * at least 0.9: receiving through a source should cost what a hand-tuned first-class function costs.
 */
export async function benchInbound(): Promise<void> {
  console.log(`inbound: ${EVENTS} signed events per run (${DUPLICATE_SHARE * 100}% redeliveries), concurrency ${CONCURRENCIES.join(" and ")}`);
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
  const stack = await startThrowawayStack("bench-inbound", { LOG_LEVEL: "warn", DB_POOL_MAX: "20" }, process.env.BENCH_DATABASE_URL);
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  try {
    await sql.unsafe(HANDLER_SQL);
    const options = { timestamp_header: "x-timestamp" };
    const [source] = await sql<{ id: string; secret: string }[]>`
      insert into public.webhook_sources (name, verifier, verifier_options, secret, event_id, event_type, handler, filter)
      values ('bench carrier', 'hmac', ${sql.json(options)}, ${randomUUID()}, '$.id', '$.type',
              'bench_inbound.on_shipment', ${["order.*"]})
      returning id, secret`;
    const port = (name: string) => stack.functions.find((f) => f.name === name)!.port;
    // Straight to the Deno servers: on Supabase the gateway in front is theirs, not ours.
    const stripeUrl = `http://127.0.0.1:${port("stripe-webhook")}/stripe-webhook`;
    const inboundUrl = `http://127.0.0.1:${port("inbound-webhook")}/inbound-webhook/${source.id}`;
    const stripeSecret = stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    const ok = (status: number) => status === 200;
    await load(stripeUrl, (await stripeEvents(sql, stripeSecret)).slice(0, 200), 8, ok);
    await load(inboundUrl, (await inboundEvents(source.secret, options)).slice(0, 200), 8, ok);
    const results = [];
    for (const concurrency of CONCURRENCIES) {
      console.log(`  concurrency ${concurrency}: stripe-webhook...`);
      const stripe = await load(stripeUrl, await stripeEvents(sql, stripeSecret), concurrency, ok);
      console.log(`  concurrency ${concurrency}: inbound-webhook (hmac source, SQL handler)...`);
      const inbound = await load(inboundUrl, await inboundEvents(source.secret, options), concurrency, ok);
      const line = {
        bench: "inbound",
        concurrency,
        events_per_s: round(inbound.perSecond),
        p50_ms: round(inbound.p50Ms, 2),
        p99_ms: round(inbound.p99Ms, 2),
        stripe_webhook_per_s: round(stripe.perSecond),
        stripe_webhook_p99_ms: round(stripe.p99Ms, 2),
        ratio: round(inbound.perSecond / stripe.perSecond, 3),
      };
      console.log(`  inbound ${summary(inbound)}; stripe-webhook ${summary(stripe)} → ratio ${line.ratio}`);
      results.push(line);
    }
    // A benchmark of events the filter dropped would measure nothing: every distinct event must have run the handler.
    const [handled] = await sql`select count(*)::int as n from bench_inbound.shipments`;
    const expected = 200 * (1 - DUPLICATE_SHARE) + CONCURRENCIES.length * unique();
    if (handled.n < expected - 1) throw new Error(`the handler ran ${handled.n} times, not ${expected}`);
    console.log(`  the handler wrote ${handled.n} shipments: one per distinct event`);
    for (const line of results.slice(1)) console.log(JSON.stringify(line));
    console.log(JSON.stringify(results[0]));
  } finally {
    await sql.end();
    await stack.dispose();
  }
}
