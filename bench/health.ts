import postgres from "postgres";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { createPoster } from "./lib/http.ts";
import { round, runLoad } from "./lib/load.ts";

const TOTAL = Number(process.env.BENCH_TOTAL_EVENTS ?? 1_000_000);
const REQUESTS = 200;

/**
 * 1M inbound events over 60 days, as a busy shop's table looks: Stripe, Resend and three
 * sources, 97% processed, the rest ignored, failed or unmatched, some redelivered. Written in
 * SQL (generate_series), so filling takes seconds, not the length of a benchmark run.
 */
async function fill(sql: postgres.Sql): Promise<void> {
  const sources = await sql<{ id: string }[]>`
    insert into public.webhook_sources (name, verifier, secret)
    select 'bench ' || n, 'hmac', md5(n::text) from generate_series(1, 3) n returning id`;
  const providers = ["stripe", "resend", ...sources.map((s) => `source:${s.id}`)];
  for (let done = 0; done < TOTAL; done += 100_000) {
    await sql`
      insert into public.webhook_events (provider, event_id, event_type, payload, status, outcome, attempts,
                                         received_at, processed_at, duplicates, last_duplicate_at)
      select (${providers}::text[])[1 + n % 5], 'evt_' || n, (array['payment_intent.succeeded', 'invoice.paid',
                'email.delivered', 'order.shipped'])[1 + n % 4],
             jsonb_build_object('id', 'evt_' || n, 'n', n),
             s.status, s.status, case when s.status = 'failed' then 3 else 1 end,
             at, at + make_interval(secs => (n % 50) / 1000.0), case when n % 97 = 0 then 1 else 0 end,
             case when n % 97 = 0 then at end
      from generate_series(${done + 1}::integer, ${Math.min(done + 100_000, TOTAL)}::integer) n,
           lateral (select now() - make_interval(secs => (n::double precision / ${TOTAL}::double precision) * 60 * 86400) as at) t,
           lateral (select case when n % 100 < 97 then 'processed' when n % 100 < 98 then 'ignored'
                                when n % 100 < 99 then 'failed' else 'unmatched' end as status) s`;
    process.stdout.write(`\r  filled ${Math.min(done + 100_000, TOTAL).toLocaleString("en")} events`);
  }
  process.stdout.write("\n");
  await sql`vacuum analyze public.webhook_events`;
}

async function timeGets(url: string, headers: Record<string, string>) {
  const client = createPoster(1);
  try {
    return await runLoad(REQUESTS, 1, async () => {
      const response = await client.get(url, headers);
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${response.body}`);
    });
  } finally {
    client.close();
  }
}

/**
 * `npm run bench -- health`: `GET /operations/health` at 1M events, computed every time
 * (OPS_HEALTH_CACHE_SECONDS=0) and as served (cached 30 s), against `GET health/live` (one
 * trivial query) through the same function; then `cleanup` over those 1M rows, against one
 * unbounded DELETE of the same rows from a copy.
 */
export async function benchHealth(): Promise<void> {
  console.log(`health: GET /operations/health with ${TOTAL.toLocaleString("en")} rows in webhook_events; then cleanup`);
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
  const stack = await startThrowawayStack("bench-health", { LOG_LEVEL: "warn", OPS_HEALTH_CACHE_SECONDS: "0" }, process.env.BENCH_DATABASE_URL);
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  try {
    await fill(sql);
    const auth = { authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}` };
    const uncached = stack.functions.find((f) => f.name === "operations")!;
    const cached = await stack.serveExtra("operations", { OPS_HEALTH_CACHE_SECONDS: "30", LOG_LEVEL: "warn" });
    const at = (port: number, path: string) => `http://127.0.0.1:${port}/operations/${path}`;
    await timeGets(at(uncached.port, "health"), auth);
    const live = await timeGets(at(uncached.port, "health/live"), {});
    const computed = await timeGets(at(uncached.port, "health"), auth);
    const served = await timeGets(at(cached.port, "health"), auth);
    console.log(`  health computed: p50 ${round(computed.p50Ms, 2)} ms, p99 ${round(computed.p99Ms, 2)} ms`);
    console.log(`  health as served (cached 30 s): p50 ${round(served.p50Ms, 2)} ms, p99 ${round(served.p99Ms, 2)} ms`);
    console.log(`  baseline health/live: p50 ${round(live.p50Ms, 2)} ms, p99 ${round(live.p99Ms, 2)} ms`);

    await sql`create table bench_copy as select * from public.webhook_events`;
    await sql`create index on bench_copy using brin (received_at)`;
    await sql`vacuum analyze bench_copy`;
    let start = performance.now();
    await sql`
      delete from bench_copy t
      where (t.status in ('processed', 'ignored') and t.received_at < now() - interval '30 days')
         or (t.status in ('failed', 'unmatched') and t.received_at < now() - interval '90 days')`;
    const unboundedS = (performance.now() - start) / 1000;
    start = performance.now();
    let deleted = 0;
    for (;;) {
      const [{ n }] = await sql<{ n: number }[]>`select public.ops_cleanup_batch('webhook_events', 30, 90, 1000) as n`;
      deleted += n;
      if (n < 1000) break;
    }
    const batchedS = (performance.now() - start) / 1000;
    const [left] = await sql<{ n: number }[]>`select public.ops_cleanup_batch('webhook_events', 30, 90, 0, true) as n`;
    if (left.n !== 0 || deleted === 0) throw new Error(`cleanup deleted ${deleted} rows and left ${left.n} past retention`);
    console.log(`  cleanup: ${deleted.toLocaleString("en")} rows in ${round(batchedS, 2)} s in batches of 1,000 ` +
      `(${round(deleted / batchedS)} rows/s); one unbounded DELETE: ${round(unboundedS, 2)} s`);
    console.log(JSON.stringify({
      bench: "health",
      rows: TOTAL,
      health_p50_ms: round(computed.p50Ms, 2),
      health_p99_ms: round(computed.p99Ms, 2),
      health_cached_p99_ms: round(served.p99Ms, 2),
      live_p99_ms: round(live.p99Ms, 2),
      ratio_p99: round(computed.p99Ms / live.p99Ms, 2),
      cleanup_rows: deleted,
      cleanup_s: round(batchedS, 2),
      unbounded_delete_s: round(unboundedS, 2),
      cleanup_ratio: round(batchedS / unboundedS, 2),
    }));
  } finally {
    await sql.end();
    await stack.dispose();
  }
}
