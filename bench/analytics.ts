import { randomUUID } from "node:crypto";
import postgres from "postgres";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { clusterCpu, loadAverage, measureCpu, postmasterPid, processCpu } from "./lib/cpu.ts";
import { createPoster } from "./lib/http.ts";
import { benchRounds, type LoadResult, median, quantile, round, runLoad } from "./lib/load.ts";

const INGEST_EVENTS = Number(process.env.BENCH_EVENTS ?? 40_000);
const TOTAL_EVENTS = Number(process.env.BENCH_TOTAL_EVENTS ?? 1_000_000);
const BATCH = 100;
const CONCURRENCY = 8;
const QUERY_ROUNDS = Number(process.env.BENCH_QUERY_ROUNDS ?? 25);
/** Ingest rounds; the ratio is the median of the rounds' ratios. */
const ROUNDS = benchRounds();
const DAY = 24 * 60 * 60 * 1000;

const NAMES = [
  ["page_view", 40],
  ["view_item", 25],
  ["click", 12],
  ["add_to_cart", 10],
  ["share", 5],
  ["begin_checkout", 5],
  ["purchase", 3],
] as const;
const WEIGHTED = NAMES.flatMap(([name, weight]) => Array<string>(weight).fill(name));
const CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

interface Batch {
  body: string;
  /** The rows the function stores for this batch, for the baseline to write as they are. */
  rows: Record<string, unknown>[];
}

/** Batches of 100 events, each from one session, as the client module sends them. */
function prepareBatches(count: number): Batch[] {
  const batches: Batch[] = [];
  for (let b = 0; b < count; b++) {
    const session = `bench-${randomUUID()}`;
    const now = Date.now();
    const events = Array.from({ length: BATCH }, (_, i) => {
      const name = WEIGHTED[(b * 31 + i * 7) % WEIGHTED.length];
      const content = name === "page_view" || name === "click" ? {} : { content_type: "product", content_id: `p${(b * 13 + i) % 2000}` };
      return {
        id: randomUUID(),
        name,
        timestamp: new Date(now - (BATCH - i) * 1000).toISOString(),
        url: `https://shop.example/products/p${i}?utm_source=bench&color=red`,
        ...content,
        properties: { position: i },
      };
    });
    const rows = events.map((e) => ({
      client_event_id: e.id,
      event_name: e.name,
      custom: false,
      occurred_at: e.timestamp,
      session_id: session,
      page_url: e.url.replace("utm_source=bench&", ""),
      content_type: e.content_type ?? null,
      content_id: e.content_id ?? null,
      utm_source: "bench",
      device: "desktop",
      browser: "Chrome",
      os: "Windows",
      ip_hash: "0".repeat(32),
      properties: e.properties,
    }));
    batches.push({ body: JSON.stringify({ session_id: session, events }), rows });
  }
  return batches;
}

/**
 * The cost floor: the same rows, already normalized, written by one multi-row INSERT per batch
 * into a copy of analytics_events (same columns and indexes) at the same concurrency.
 */
async function baseline(url: string, batches: Batch[]): Promise<LoadResult> {
  const sql = postgres(url, { max: CONCURRENCY, prepare: false, onnotice: () => {} });
  await sql`create table if not exists bench_analytics_baseline (like public.analytics_events including all)`;
  try {
    const result = await runLoad(batches.length, CONCURRENCY, async (i) => {
      await sql`insert into bench_analytics_baseline ${sql(batches[i].rows as Record<string, string>[])}`;
    });
    return { ...result, perSecond: result.perSecond * BATCH };
  } finally {
    await sql.end();
  }
}

async function ingestLoad(url: string, anonKey: string, batches: Batch[]): Promise<LoadResult> {
  const client = createPoster(CONCURRENCY);
  const headers = { authorization: `Bearer ${anonKey}`, "user-agent": CHROME, "x-forwarded-for": "203.0.113.10" };
  try {
    const result = await runLoad(batches.length, CONCURRENCY, async (i) => {
      const response = await client.post(url, batches[i].body, headers);
      if (response.status !== 200 || !response.body.startsWith(`{"accepted":${BATCH},`)) {
        throw new Error(`analytics-service answered ${response.status}: ${response.body.slice(0, 300)}`);
      }
    });
    return { ...result, perSecond: result.perSecond * BATCH };
  } finally {
    client.close();
  }
}

/**
 * Fills the table to `total` events over the last 30 days through the same SQL function the
 * endpoint calls (generated in the database: the point is the size of the tables queried,
 * not how they were filled). Sessions of 20 events within an hour, 2,000 products.
 */
async function fillTo(sql: postgres.Sql, total: number) {
  const [{ count }] = await sql<{ count: number }[]>`select count(*)::int from public.analytics_events`;
  const chunk = 20_000;
  const start = Date.now();
  for (let done = count, n = 0; done < total; done += chunk, n++) {
    const size = Math.min(chunk, total - done);
    await sql`
      select public.ingest_analytics_events((
        select jsonb_agg(jsonb_build_object(
          'client_event_id', gen_random_uuid(),
          'event_name', e.name,
          'occurred_at', now() - interval '30 days' + (s.n * 7919 % 43140) * interval '1 minute' + (g.i % 20) * interval '2 minutes',
          'session_id', 'fill-' || s.n,
          'content_type', case when e.name in ('page_view', 'click') then null else 'product' end,
          'content_id', case when e.name in ('page_view', 'click') then null else 'p' || (g.i * 7919 % 2000) end,
          'platform', case when e.name = 'share' then (array['facebook', 'x', 'whatsapp', 'copy_link', 'email'])[1 + g.i % 5] end,
          'device', 'desktop',
          'ip_hash', md5(s.n::text)))
        from generate_series(1, ${size}) as g(i)
        cross join lateral (select (${done} + g.i) / 20 as n) as s
        cross join lateral (select (${WEIGHTED}::text[])[1 + (g.i * 2654435761) % ${WEIGHTED.length}] as name) as e))`;
    const filled = done + size;
    if (n % 10 === 0 || filled >= total) {
      const rate = Math.round((filled - count) / ((Date.now() - start) / 1000));
      console.log(`  filled ${filled.toLocaleString("en")} / ${total.toLocaleString("en")} events (${rate}/s)`);
    }
  }
  await sql`vacuum analyze`;
}

/** Dashboard queries over the filled tables, each timed end to end through the function. */
async function queryLatencies(baseUrl: string, serviceKey: string) {
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const month = `from=${iso(now - 30 * DAY)}&to=${iso(now)}`;
  const week = `from=${iso(now - 7 * DAY)}&to=${iso(now)}`;
  const queries: Record<string, string> = {
    "events by day, 30 days": `events?${month}&interval=day`,
    "events by hour, 7 days, 2 events": `events?${week}&interval=hour&events=page_view,purchase`,
    "events by hour, 24 h": `events?from=${iso(now - DAY)}&to=${iso(now)}&interval=hour`,
    "shares by platform, 30 days": `shares?${month}`,
    "top shared content, 30 days": `top-content?${month}`,
    "top viewed content, 30 days": `top-content?${month}&event=view_item&limit=20`,
    "funnel of 4 steps, 7 days": `funnel?${week}&steps=page_view,view_item,add_to_cart,purchase`,
    "funnel of 3 steps, 30 days": `funnel?${month}&steps=view_item,add_to_cart,purchase`,
  };
  const client = createPoster(1);
  const headers = { authorization: `Bearer ${serviceKey}` };
  const all: number[] = [];
  const perQuery: Record<string, number[]> = {};
  try {
    for (let round = -1; round < QUERY_ROUNDS; round++) {
      for (const [label, path] of Object.entries(queries)) {
        const start = performance.now();
        const response = await client.get(`${baseUrl}/metrics/${path}`, headers);
        const ms = performance.now() - start;
        if (response.status !== 200) throw new Error(`${label}: ${response.status} ${response.body.slice(0, 300)}`);
        // Round -1 warms caches and plans; it is not counted.
        if (round < 0) continue;
        all.push(ms);
        (perQuery[label] ??= []).push(ms);
      }
    }
  } finally {
    client.close();
  }
  for (const [label, times] of Object.entries(perQuery)) {
    times.sort((a, b) => a - b);
    console.log(`  ${label.padEnd(36)} p50 ${round(quantile(times, 0.5), 1)} ms, p99 ${round(quantile(times, 0.99), 1)} ms`);
  }
  all.sort((a, b) => a - b);
  return { count: all.length, p50Ms: quantile(all, 0.5), p99Ms: quantile(all, 0.99) };
}

/** `npm run bench -- analytics`: batched ingest against plain INSERTs, and query latency at 1M events. */
export async function benchAnalytics(): Promise<void> {
  console.log(`analytics: ${INGEST_EVENTS} events in batches of ${BATCH} at concurrency ${CONCURRENCY}, ${ROUNDS} round(s), medians; then queries at ${TOTAL_EVENTS.toLocaleString("en")} events`);
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
  const stack = await startThrowawayStack(
    "bench-analytics",
    { LOG_LEVEL: "warn", DB_POOL_MAX: "20", ANALYTICS_IP_LIMIT_PER_MINUTE: "100000000" },
    process.env.BENCH_DATABASE_URL,
  );
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  try {
    const [fn] = stack.functions.filter((f) => f.name === "analytics-service");
    // Straight to the Deno server: on Supabase the gateway in front is theirs, not ours.
    const url = `http://127.0.0.1:${fn.port}/analytics-service`;
    await ingestLoad(url, stack.env.SUPABASE_ANON_KEY, prepareBatches(20));

    const postmaster = await postmasterPid(sql);
    const cpuGroups = { pg: () => (postmaster ? clusterCpu(postmaster) : NaN), deno: () => processCpu(fn.process.pid!) };
    const perEvent = (seconds: number) => round((seconds * 1e6) / INGEST_EVENTS, 1);
    const rounds: { ingest: LoadResult; base: LoadResult; ratio: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const batches = prepareBatches(INGEST_EVENTS / BATCH);
      const runBase = () => measureCpu(cpuGroups, () => baseline(stack.env.DATABASE_URL, batches));
      const runIngest = () => measureCpu(cpuGroups, () => ingestLoad(url, stack.env.SUPABASE_ANON_KEY, batches));
      // Alternate which goes first, so a drift of the shared machine favours neither.
      const [base, ingest] = r % 2 === 0
        ? [await runBase(), await runIngest()]
        : await (async () => {
          const ingest = await runIngest();
          return [await runBase(), ingest];
        })();
      const ratio = ingest.result.perSecond / base.result.perSecond;
      rounds.push({ ingest: ingest.result, base: base.result, ratio });
      console.log(
        `  round ${r + 1}: ingest ${round(ingest.result.perSecond)} events/s (batch p50 ${round(ingest.result.p50Ms, 1)} ms, ` +
          `p99 ${round(ingest.result.p99Ms, 1)} ms; CPU µs/event Postgres ${perEvent(ingest.cpu.pg)}, Deno ` +
          `${perEvent(ingest.cpu.deno)}); baseline ${round(base.result.perSecond)} rows/s (Postgres ` +
          `${perEvent(base.cpu.pg)}, load generator ${perEvent(base.cpu.load_generator)}) → ratio ${round(ratio, 3)} ` +
          `(load ${loadAverage()})`,
      );
    }
    const mid = <T>(values: T[], pick: (x: T) => number) => median(values.map(pick));
    const ingest = { perSecond: mid(rounds, (x) => x.ingest.perSecond) };
    const base = { perSecond: mid(rounds, (x) => x.base.perSecond) };
    const ratio = mid(rounds, (x) => x.ratio);
    console.log(`  medians of ${ROUNDS}: ingest ${round(ingest.perSecond)} events/s; baseline ${round(base.perSecond)} rows/s → ratio ${round(ratio, 3)}`);

    console.log(`filling to ${TOTAL_EVENTS.toLocaleString("en")} events...`);
    await fillTo(sql, TOTAL_EVENTS);
    const [sizes] = await sql`
      select (select count(*) from public.analytics_events)::int as events,
             (select count(*) from public.analytics_rollups)::int as rollups,
             (select count(*) from public.analytics_content_rollups)::int as content_rollups,
             (select count(*) from public.analytics_session_firsts)::int as session_firsts`;
    console.log(`  tables: ${JSON.stringify(sizes)}`);
    console.log("queries through the function (service role), one at a time:");
    const queries = await queryLatencies(url, stack.env.SUPABASE_SERVICE_ROLE_KEY);
    console.log(`  all ${queries.count} queries: p50 ${round(queries.p50Ms, 1)} ms, p99 ${round(queries.p99Ms, 1)} ms`);
    console.log(JSON.stringify({
      bench: "analytics",
      ingest_events_per_s: round(ingest.perSecond),
      baseline_rows_per_s: round(base.perSecond),
      ingest_ratio: round(ratio, 3),
      events: sizes.events,
      query_p50_ms: round(queries.p50Ms, 1),
      query_p99_ms: round(queries.p99Ms, 1),
    }));
  } finally {
    await sql.end();
    await stack.dispose();
  }
}
