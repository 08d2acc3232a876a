import { serveFunction } from "../stack/functions.ts";
import { signStripePayload, stripeEvent } from "../stripe/fixtures.ts";
import type { ChaosTarget } from "./harness.ts";
import type { ScenarioResult } from "./report.ts";
import { startTcpProxy } from "./tcp-proxy.ts";

// Stripe retries with exponential backoff for three days; compressed here to milliseconds,
// with the same shape: each retry waits twice as long, up to a ceiling.
const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 2000;
const MAX_TRIES = 30;

/**
 * Database outage: `scale` payments posted to a stripe-webhook whose database connection runs
 * through a TCP proxy, which is cut for `outageMs` a third of the way in and then restored, as
 * a pooler restart or a network partition would do. Senders retry every non-2xx as Stripe does.
 * Checked afterwards: every 2xx was for an event that is stored (a 2xx for an unstored event is
 * a wrong answer), every event ends stored and applied exactly once, some requests did meet the
 * outage (a 5xx), and the same function process recovered without a restart.
 */
export async function databaseOutage(target: ChaosTarget, scale: number, _seed = 1, outageMs = 5000): Promise<ScenarioResult> {
  const { sql, env } = target;
  const notes: string[] = [];
  const db = new URL(env.DATABASE_URL);
  const proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port) });
  const viaProxy = new URL(env.DATABASE_URL);
  viaProxy.port = String(proxy.port);
  const fn = await serveFunction("stripe-webhook", { ...env, SUPABASE_DB_URL: viaProxy.toString(), LOG_LEVEL: "error" }, () => {});
  const url = `http://127.0.0.1:${fn.port}/stripe-webhook`;
  try {
    const orders = await sql<{ id: string }[]>`
      insert into public.orders (amount_total, currency) select 4200, 'usd' from generate_series(1, ${scale}) returning id`;
    const secret = env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    const events = await Promise.all(orders.map(async ({ id }) => {
      const event = stripeEvent("payment_intent.succeeded", { orderId: id });
      const body = JSON.stringify(event);
      return { id: event.id as string, orderId: id, body, signature: await signStripePayload(body, secret) };
    }));
    let serverErrors = 0;
    const acknowledged = new Set<string>();
    let outage: Promise<void> | null = null;
    const send = async (e: (typeof events)[number]) => {
      for (let attempt = 0, wait = FIRST_RETRY_MS; attempt < MAX_TRIES; attempt++, wait = Math.min(wait * 2, MAX_RETRY_MS)) {
        try {
          const response = await fetch(url, {
            method: "POST",
            headers: { "content-type": "application/json", "stripe-signature": e.signature },
            body: e.body,
          });
          await response.arrayBuffer();
          if (response.status >= 200 && response.status < 300) {
            acknowledged.add(e.id);
            return;
          }
          if (response.status >= 500) serverErrors++;
        } catch {
          serverErrors++;
        }
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      notes.push(`event ${e.id} was never acknowledged after ${MAX_TRIES} tries`);
    };
    let next = 0;
    const worker = async () => {
      while (next < events.length) {
        const i = next++;
        if (i === Math.floor(events.length / 3) && !outage) {
          outage = proxy.cut().then(() => new Promise((resolve) => setTimeout(resolve, outageMs))).then(() => proxy.restore());
        }
        await send(events[i]);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await outage;

    const stored = await sql<{ event_id: string; attempts: number; status: string; duplicates: number }[]>`
      select event_id, attempts, status, duplicates from public.webhook_events
      where provider = 'stripe' and event_id = any(${events.map((e) => e.id)})`;
    const storedIds = new Set(stored.map((row) => row.event_id));
    const wrong = [...acknowledged].filter((id) => !storedIds.has(id)).length;
    const lost = events.length - stored.filter((row) => row.status === "processed").length;
    const [{ paid }] = await sql<{ paid: number }[]>`
      select count(*)::int as paid from public.orders where id = any(${orders.map((o) => o.id)}::uuid[]) and status = 'paid'`;
    // One row per event id is what the unique key promises; more would be the same event stored twice.
    const duplicated = stored.length - storedIds.size;
    if (wrong > 0) notes.push(`${wrong} events were answered 2xx without being stored`);
    if (lost > 0) notes.push(`${lost} events did not end processed`);
    if (paid !== scale) notes.push(`${scale - paid} orders are not paid`);
    if (serverErrors === 0) notes.push("no request met the outage: the proxy cut did not bite");
    return {
      scenario: "database-outage",
      sent: events.length,
      effects: paid,
      lost,
      duplicated,
      absorbed: stored.reduce((sum, row) => sum + row.duplicates, 0),
      refused: serverErrors,
      wrong,
      pass: wrong === 0 && lost === 0 && paid === scale && serverErrors > 0,
      notes,
    };
  } finally {
    await fn.stop();
    await proxy.close();
  }
}
