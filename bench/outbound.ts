import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import postgres from "postgres";
import { Webhook } from "standardwebhooks";
import { startThrowawayStack, type ThrowawayStack } from "../dev/stack/throwaway.ts";
import { jsonb } from "../supabase/functions/_shared/sql-json.ts";
import { createPoster } from "./lib/http.ts";
import { benchRounds, median, round, runLoad } from "./lib/load.ts";

/** The dispatcher's default WEBHOOK_CONCURRENCY; the baseline posts at the same concurrency. */
const CONCURRENCY = 32;

interface Scenario {
  name: string;
  events: number;
  endpoints: number;
}

const SCENARIOS: Scenario[] = [
  { name: "1 event × 200 endpoints", events: 1, endpoints: 200 },
  { name: `${Number(process.env.BENCH_EVENTS ?? 10000)} events × 5 endpoints`, events: Number(process.env.BENCH_EVENTS ?? 10000), endpoints: 5 },
];

/** A partner that answers 204 at once: the benchmark measures the sender, not the receiver. */
async function startSink() {
  let count = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      count++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: (i: number) => `http://127.0.0.1:${port}/partner/${i}`,
    count: () => count,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function dispatchUntilDone(stack: ThrowawayStack, sql: postgres.Sql, total: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const res = await fetch(`${stack.env.SUPABASE_URL}/functions/v1/webhook-dispatcher`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}` },
      body: '{"action":"dispatch"}',
    });
    if (!res.ok) throw new Error(`dispatcher answered ${res.status}: ${await res.text()}`);
    await res.json();
    const [{ left, failed }] = await sql`
      select count(*) filter (where status = 'PENDING')::int as left,
             count(*) filter (where status in ('FAILED', 'RETRY_EXHAUSTED'))::int as failed
      from public.webhook_deliveries`;
    if (failed > 0) throw new Error(`${failed} deliveries failed`);
    if (left === 0) break;
  }
  const seconds = (performance.now() - start) / 1000;
  const [{ done }] = await sql`select count(*)::int as done from public.webhook_deliveries where status = 'SUCCESS'`;
  if (done !== total) throw new Error(`${done} of ${total} deliveries succeeded`);
  return total / seconds;
}

/**
 * The cost floor: the same number of signed POSTs (standardwebhooks, same body size) from
 * one process at the same concurrency, with no queue, no database and no attempt log.
 */
async function rawPosts(sink: Awaited<ReturnType<typeof startSink>>, payload: string, endpoints: number, total: number) {
  const secrets = Array.from({ length: endpoints }, () => `whsec_${randomBytes(24).toString("base64")}`);
  const poster = createPoster(CONCURRENCY);
  try {
    const result = await runLoad(total, CONCURRENCY, async (i) => {
      const id = `msg_${i}`;
      const signature = new Webhook(secrets[i % endpoints]).sign(id, new Date(), payload);
      const res = await poster.post(sink.url(i % endpoints), payload, {
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
        "webhook-signature": signature,
      });
      if (res.status !== 204) throw new Error(`sink answered ${res.status}`);
    });
    return result.perSecond;
  } finally {
    poster.close();
  }
}

async function runScenario(scenario: Scenario, label: string) {
  const stack = await startThrowawayStack("bench-outbound", {
    LOG_LEVEL: "warn",
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    DB_POOL_MAX: "20",
  });
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  const sink = await startSink();
  try {
    for (let i = 0; i < scenario.endpoints; i++) {
      await sql`
        insert into public.webhook_endpoints (url, secret, rate_limit_per_minute, rate_limit_burst, max_in_flight)
        values (${sink.url(i)}, ${`whsec_${randomBytes(24).toString("base64")}`}, 100000, 100000, ${CONCURRENCY})`;
    }
    const data = jsonb(sql, { id: "ord_1", status: "paid", amount_total: 4200, currency: "usd", customer_email: "a@example.com" });
    await sql`select public.publish_event('order.updated', null, ${data}) from generate_series(1, ${scenario.events})`;
    const total = scenario.events * scenario.endpoints;
    const [{ payload }] = await sql`
      select json_build_object('id', id, 'type', type, 'timestamp', created_at, 'api_version', api_version,
                               'tenant_id', tenant_id, 'data', data::json)::text as payload
      from public.outbound_events limit 1`;
    const perSecond = await dispatchUntilDone(stack, sql, total);
    const baseline = await rawPosts(sink, payload, scenario.endpoints, total);
    const line = {
      scenario: scenario.name,
      deliveries: total,
      deliveries_per_s: round(perSecond),
      baseline_per_s: round(baseline),
      ratio: round(perSecond / baseline, 3),
    };
    console.log(
      `  ${scenario.name}, ${label}: ${line.deliveries_per_s} deliveries/s; raw signed POSTs ${line.baseline_per_s}/s ` +
        `→ ratio ${line.ratio}`,
    );
    return line;
  } finally {
    await sink.close();
    await sql.end();
    await stack.dispose();
  }
}

/**
 * `npm run bench -- outbound`: the dispatcher against raw signed POSTs, in the same run; each
 * scenario `--rounds` times (3), each round on a fresh stack, and the medians.
 */
export async function benchOutbound(): Promise<void> {
  const rounds = benchRounds();
  console.log(
    `outbound: webhook-dispatcher (concurrency ${CONCURRENCY}) to local receivers, each scenario on a fresh stack, ` +
      `${rounds} round(s), medians`,
  );
  const results = [];
  for (const scenario of SCENARIOS) {
    const runs = [];
    for (let r = 0; r < rounds; r++) runs.push(await runScenario(scenario, `round ${r + 1}`));
    const line = {
      scenario: scenario.name,
      deliveries: runs[0].deliveries,
      rounds,
      deliveries_per_s: round(median(runs.map((run) => run.deliveries_per_s))),
      baseline_per_s: round(median(runs.map((run) => run.baseline_per_s))),
      ratio: round(median(runs.map((run) => run.ratio)), 3),
    };
    console.log(
      `  ${scenario.name}, medians of ${rounds}: ${line.deliveries_per_s} deliveries/s; raw signed POSTs ` +
        `${line.baseline_per_s}/s → ratio ${line.ratio}`,
    );
    results.push(line);
  }
  const main = results[results.length - 1];
  console.log(JSON.stringify({
    bench: "outbound",
    deliveries_per_s: main.deliveries_per_s,
    ratio: main.ratio,
    scenarios: results,
  }));
}
