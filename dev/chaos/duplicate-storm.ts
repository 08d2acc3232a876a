import { randomUUID } from "node:crypto";
import { genericHmacOptions, genericHmacSignature } from "../../supabase/functions/_shared/webhook-verify/generic-hmac.ts";
import { signStripePayload, stripeEvent, stripeId } from "../stripe/fixtures.ts";
import { type ChaosTarget, drainEmail, inboxCopies, seededRandom } from "./harness.ts";
import type { ScenarioResult } from "./report.ts";

interface Delivery {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A Fisher-Yates shuffle with a seeded generator, so a failing run can be replayed. */
function shuffle<T>(items: T[], seed: number): T[] {
  const next = seededRandom(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

async function sendAll(deliveries: Delivery[], concurrency: number): Promise<number[]> {
  const statuses = new Array<number>(deliveries.length);
  let next = 0;
  const worker = async () => {
    while (next < deliveries.length) {
      const i = next++;
      const d = deliveries[i];
      try {
        const response = await fetch(d.url, { method: "POST", headers: d.headers, body: d.body });
        await response.arrayBuffer();
        statuses[i] = response.status;
      } catch {
        statuses[i] = 0;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

/**
 * Duplicate storm: `scale` Stripe payments (a tenth of them refunded, the refund sent before the
 * payment to come out of order), every event delivered 3 times at once in shuffled order, and
 * the same for a generic source whose handler writes one row per event. Checked afterwards:
 * every payment and shipment applied once (none lost, none twice), each order where a
 * sequential replay of its history puts it, and no order's confirmation email sent twice,
 * counted in the Resend stand-in's inbox.
 */
export async function duplicateStorm(target: ChaosTarget, scale: number, seed = 1): Promise<ScenarioResult> {
  const { sql, env } = target;
  const notes: string[] = [];
  const run = randomUUID().slice(0, 8);
  await sql.unsafe(`
    create schema if not exists chaos;
    create table if not exists chaos.shipments (event_id text primary key, run text, applied_at timestamptz default now());
    create table if not exists chaos.applications (event_id text, run text);
    create or replace function chaos.on_shipment(event jsonb, source jsonb) returns text
    language sql set search_path = '' as $$
      insert into chaos.applications values (event ->> 'id', event -> 'payload' ->> 'run');
      insert into chaos.shipments (event_id, run) values (event ->> 'id', event -> 'payload' ->> 'run');
      select 'shipped'
    $$;`);
  const orders = await sql<{ id: string }[]>`
    insert into public.orders (amount_total, currency, customer_email)
    select 4200, 'usd', 'chaos-' || ${run} || '-' || n || '@example.com' from generate_series(1, ${scale}) n
    returning id`;
  const secret = env.STRIPE_WEBHOOK_SECRET.split(",")[0];
  const now = Math.floor(Date.now() / 1000);
  const expected = new Map<string, string>();
  const stripe: Delivery[] = [];
  for (const [i, { id }] of orders.entries()) {
    const paymentIntentId = stripeId("pi");
    const events = [stripeEvent("payment_intent.succeeded", { orderId: id, paymentIntentId, created: now - 10 })];
    if (i % 10 === 0) {
      events.unshift(stripeEvent("charge.refunded", { orderId: id, paymentIntentId, amount: 4200, created: now - 5 }));
    }
    expected.set(id, i % 10 === 0 ? "refunded" : "paid");
    for (const event of events) {
      const body = JSON.stringify(event);
      const headers = { "content-type": "application/json", "stripe-signature": await signStripePayload(body, secret) };
      for (let copy = 0; copy < 3; copy++) stripe.push({ url: `${env.SUPABASE_URL}/functions/v1/stripe-webhook`, headers, body });
    }
  }
  const created = await fetch(`${env.SUPABASE_URL}/functions/v1/webhook-sources`, {
    method: "POST",
    headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ name: `chaos ${run}`, verifier: "hmac", event_id: "$.id", handler: "chaos.on_shipment" }),
  });
  const source = await created.json();
  const inbound: Delivery[] = [];
  const options = genericHmacOptions.parse(source.verifier_options);
  for (let i = 0; i < scale; i++) {
    const body = JSON.stringify({ id: `ship_${run}_${i}`, type: "order.shipped", run, data: { carrier: "DHL" } });
    const headers = {
      "content-type": "application/json",
      "x-signature": await genericHmacSignature(options, body, source.secret, null),
    };
    for (let copy = 0; copy < 3; copy++) inbound.push({ url: source.url, headers, body });
  }

  const deliveries = shuffle([...stripe, ...inbound], seed);
  target.log(`duplicate storm: ${deliveries.length} deliveries (${scale} payments, ${scale} shipments, each 3 times)`);
  const statuses = await sendAll(deliveries, 32);
  const refused = statuses.filter((s) => s !== 200).length;
  if (refused > 0) notes.push(`${refused} deliveries were not answered 200 (${[...new Set(statuses)].join(", ")})`);

  const finals = await sql<{ id: string; status: string }[]>`select id, status from public.orders where id = any(${[...expected.keys()]}::uuid[])`;
  const wrong = finals.filter((o) => o.status !== expected.get(o.id)).length;
  if (wrong > 0) notes.push(`${wrong} orders differ from a sequential replay of their history`);
  const [stripeCounts] = await sql<{ applied: number; events: number; duplicates: number }[]>`
    select count(*) filter (where e.status in ('processed', 'unmatched'))::int as applied, count(*)::int as events,
      coalesce(sum(e.duplicates), 0)::int as duplicates
    from public.webhook_events e where e.provider = 'stripe'
      and e.payload -> 'data' -> 'object' -> 'metadata' ->> 'order_id' = any(${[...expected.keys()]})`;
  const [shipments] = await sql<{ applied: number; distinct: number; duplicates: number }[]>`
    select count(*)::int as applied, count(distinct event_id)::int as distinct,
      (select coalesce(sum(duplicates), 0)::int from public.webhook_events where provider = ${`source:${source.id}`}) as duplicates
    from chaos.applications where run = ${run}`;

  await drainEmail(target);
  // A refunded order legitimately gets two emails (confirmation, refund): the same email twice
  // is the same recipient and subject.
  const perEmail = await inboxCopies(env, `chaos-${run}-`, (to, subject) => `${to} ${subject}`);
  // With no email at all the count above would prove nothing.
  if (perEmail.size === 0) notes.push("no email reached the inbox, so none could be counted twice");
  const emailedTwice = [...perEmail.values()].filter((n) => n > 1).length;
  if (emailedTwice > 0) notes.push(`${emailedTwice} emails were sent twice`);

  const stripeEvents = stripe.length / 3;
  const effects = stripeCounts.events + shipments.distinct;
  const lost = stripeEvents - stripeCounts.events + (scale - shipments.distinct);
  const duplicated = shipments.applied - shipments.distinct + emailedTwice;
  if (lost > 0) notes.push(`${lost} events were lost`);
  if (duplicated > 0) notes.push(`${duplicated} effects were applied twice`);
  return {
    scenario: "duplicate-storm",
    sent: deliveries.length,
    effects,
    lost,
    duplicated,
    absorbed: stripeCounts.duplicates + shipments.duplicates,
    refused,
    wrong,
    pass: lost === 0 && duplicated === 0 && refused === 0 && wrong === 0 && perEmail.size > 0,
    notes,
  };
}
