import postgres from "postgres";
import type { ServedFunction } from "../dev/stack/functions.ts";
import { startThrowawayStack } from "../dev/stack/throwaway.ts";
import { clusterCpu, loadAverage, measureCpu, postmasterPid, processCpu } from "./lib/cpu.ts";
import { round } from "./lib/load.ts";
import { startProfilingPostgres } from "./lib/profile-postgres.ts";
import { startVerifyAndStore } from "./lib/verify-and-store.ts";
import { EVENTS, functionLoad, type Prepared, prepareEvents } from "./stripe-webhook.ts";

/**
 * `npm run bench -- stripe-profile`: where the Postgres CPU of stripe-webhook goes. The same load
 * as `npm run bench -- stripe-webhook` (same events, same concurrency, BENCH_PROFILE_CONCURRENCY,
 * default 16), against stripe-webhook and the verify-and-store baseline in turn, on a throwaway
 * cluster with pg_stat_statements (nested statements and planning tracked) and
 * track_functions = all. Reports per statement and per function, WAL per event, table writes per
 * event, pg_stat_activity wait events sampled every 100 ms, CPU per event of Postgres, Deno and
 * the load generator, and micro-measurements of each suspect. The profiling settings cost some
 * throughput themselves: read shares and per-event costs here, throughput in stripe-webhook.
 */

const CONCURRENCY = Number(process.env.BENCH_PROFILE_CONCURRENCY ?? 16);
/** Backends flush function and table counters at most every 10 s when idle (PGSTAT_IDLE_INTERVAL). */
const STATS_FLUSH_MS = 11_500;
const MARK = "/* bench-profile */";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Row = Record<string, unknown>;
const num = (v: unknown) => Number(v ?? 0);

async function snapshot(sql: postgres.Sql) {
  const [wal] = await sql.unsafe(`${MARK} select wal_records, wal_fpi, wal_bytes, wal_buffers_full, wal_write, wal_sync,
      pg_current_wal_lsn() as lsn from pg_stat_wal`);
  const functions = await sql.unsafe(`${MARK} select funcid, schemaname || '.' || funcname as name, calls, total_time, self_time
      from pg_stat_user_functions`);
  const tables = await sql.unsafe(`${MARK} select relid, schemaname || '.' || relname as name, n_tup_ins, n_tup_upd,
      n_tup_hot_upd, n_tup_del, pg_total_relation_size(relid) as bytes from pg_stat_user_tables`);
  const [db] = await sql.unsafe(`${MARK} select xact_commit, blks_hit, blks_read, tup_inserted, tup_updated
      from pg_stat_database where datname = current_database()`);
  return { wal, functions, tables, db };
}
type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/** Samples pg_stat_activity every 100 ms for the backends of `app`. */
function startSampler(url: string, app: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const counts = new Map<string, number>();
  let ticks = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      const rows = await sql.unsafe(`${MARK} select state, coalesce(wait_event_type, '-') as wt, coalesce(wait_event, '-') as we
          from pg_stat_activity where application_name = $1 and backend_type = 'client backend'`, [app]);
      ticks++;
      for (const r of rows) {
        const key = r.state === "active" && r.wt === "-" ? "active, on CPU (no wait event)" : `${r.state}, ${r.wt}:${r.we}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await sleep(Math.max(0, 100 - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      await sql.end();
      return { ticks, counts };
    },
  };
}

interface Profile {
  label: string;
  events: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  cpu: Record<string, number>;
  statements: Row[];
  before: Snapshot;
  after: Snapshot;
  waits: { ticks: number; counts: Map<string, number> };
}

async function profileRun(
  sql: postgres.Sql,
  url: string,
  label: string,
  target: string,
  served: ServedFunction,
  events: Prepared[],
  pgCpu: () => number,
): Promise<Profile> {
  await sleep(STATS_FLUSH_MS); // earlier runs' pending counters land before the "before" snapshot
  await sql.unsafe(`${MARK} select pg_stat_statements_reset()`);
  const before = await snapshot(sql);
  const sampler = startSampler(url, label);
  const { result, cpu } = await measureCpu(
    { postgres: pgCpu, deno: () => processCpu(served.process.pid!) },
    () => functionLoad(target, events, CONCURRENCY, label),
  );
  const waits = await sampler.stop();
  const statements = await sql.unsafe(`${MARK} select toplevel, calls, plans, total_exec_time, total_plan_time, rows,
      wal_records, wal_bytes, wal_fpi, shared_blks_hit, shared_blks_dirtied, query
    from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database()) and query not like '%bench-profile%'
    order by total_exec_time + total_plan_time desc`);
  await sleep(STATS_FLUSH_MS);
  const after = await snapshot(sql);
  return {
    label,
    events: result.count,
    seconds: result.seconds,
    perSecond: result.perSecond,
    p50: result.p50Ms,
    p99: result.p99Ms,
    cpu,
    statements: [...statements],
    before,
    after,
    waits,
  };
}

const oneLine = (q: unknown, width = 110) => {
  const s = String(q).replace(/\s+/g, " ").trim();
  return s.length > width ? s.slice(0, width - 1) + "…" : s;
};

function report(p: Profile) {
  const n = p.events;
  const out: Record<string, unknown> = { handler: p.label, events: n };
  console.log(`\n## ${p.label}: ${n} events at c=${CONCURRENCY}, ${round(p.perSecond)}/s, p50 ${round(p.p50, 2)} ms, p99 ${round(p.p99, 2)} ms (load ${loadAverage()})`);
  const cpu = Object.fromEntries(Object.entries(p.cpu).map(([k, v]) => [k, round((v * 1000) / n, 3)]));
  console.log(`CPU ms/event: Postgres ${cpu.postgres}, Deno ${cpu.deno}, load generator ${cpu.load_generator}; ` +
    `wall ${round((p.seconds * 1000) / n, 3)} ms/event on 2 cores = ${round((p.seconds * 2000) / n, 3)} core-ms/event`);
  out.cpu_ms_per_event = cpu;

  const top = p.statements.filter((s) => s.toplevel);
  const topTotal = top.reduce((a, s) => a + num(s.total_exec_time) + num(s.total_plan_time), 0);
  console.log(`\nStatements (pg_stat_statements, nested included; share = of top-level exec+plan time, ${round(topTotal / n, 3)} ms/event):`);
  console.log("| top | calls/event | exec ms total | mean ms | plans | plan ms total | share | WAL B/call | query |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  const stmts = p.statements.slice(0, 25).map((s) => {
    const calls = num(s.calls);
    const row = {
      toplevel: Boolean(s.toplevel),
      calls_per_event: round(calls / n, 3),
      total_exec_ms: round(num(s.total_exec_time), 1),
      mean_exec_ms: round(num(s.total_exec_time) / Math.max(1, calls), 4),
      plans: num(s.plans),
      total_plan_ms: round(num(s.total_plan_time), 1),
      share: round((num(s.total_exec_time) + num(s.total_plan_time)) / topTotal, 3),
      wal_bytes_per_call: round(num(s.wal_bytes) / Math.max(1, calls), 0),
      query: oneLine(s.query),
    };
    console.log(`| ${row.toplevel ? "yes" : ""} | ${row.calls_per_event} | ${row.total_exec_ms} | ${row.mean_exec_ms} | ${row.plans} | ` +
      `${row.total_plan_ms} | ${round(row.share * 100, 1)}% | ${row.wal_bytes_per_call} | \`${row.query}\` |`);
    return row;
  });
  out.statements = stmts;
  out.toplevel_exec_plan_ms_per_event = round(topTotal / n, 3);

  const beforeF = new Map(p.before.functions.map((f) => [f.funcid, f]));
  const fns = p.after.functions.map((f) => {
    const b = beforeF.get(f.funcid);
    return {
      name: String(f.name),
      calls: num(f.calls) - num(b?.calls),
      total: num(f.total_time) - num(b?.total_time),
      self: num(f.self_time) - num(b?.self_time),
    };
  }).filter((f) => f.calls > 0).sort((a, b) => b.self - a.self);
  const selfTotal = fns.reduce((a, f) => a + f.self, 0);
  if (fns.length > 0) {
    console.log(`\nFunctions (pg_stat_user_functions, track_functions = all; self time ${round(selfTotal / n, 3)} ms/event):`);
    console.log("| function | calls/event | total ms | self ms | mean self µs | self share | total ms/event |");
    console.log("|---|---|---|---|---|---|---|");
    for (const f of fns) {
      console.log(`| ${f.name} | ${round(f.calls / n, 3)} | ${round(f.total, 1)} | ${round(f.self, 1)} | ${round((f.self * 1000) / f.calls, 1)} | ` +
        `${round((f.self / selfTotal) * 100, 1)}% | ${round(f.total / n, 4)} |`);
    }
  }
  out.functions = fns.map((f) => ({ ...f, calls_per_event: round(f.calls / n, 3), total: round(f.total, 1), self: round(f.self, 1) }));

  const w = (k: string) => num(p.after.wal[k]) - num(p.before.wal[k]);
  const lsnBytes = lsnDiff(String(p.before.wal.lsn), String(p.after.wal.lsn));
  const wal = {
    records_per_event: round(w("wal_records") / n, 2),
    fpi_per_event: round(w("wal_fpi") / n, 3),
    bytes_per_event: round(w("wal_bytes") / n, 0),
    lsn_bytes_per_event: round(lsnBytes / n, 0),
    syncs_per_event: round(w("wal_sync") / n, 3),
    writes_per_event: round(w("wal_write") / n, 3),
    commits_per_event: round((num(p.after.db.xact_commit) - num(p.before.db.xact_commit)) / n, 3),
  };
  console.log(`\nWAL per event (pg_stat_wal): ${wal.records_per_event} records, ${wal.fpi_per_event} full-page images, ${wal.bytes_per_event} B ` +
    `(LSN advance ${wal.lsn_bytes_per_event} B); ${wal.syncs_per_event} syncs, ${wal.writes_per_event} writes; ${wal.commits_per_event} commits/event (whole database)`);
  out.wal = wal;

  const beforeT = new Map(p.before.tables.map((t) => [t.relid, t]));
  const tables = p.after.tables.map((t) => {
    const b = beforeT.get(t.relid);
    const d = (k: string) => num(t[k]) - num(b?.[k]);
    return { name: String(t.name), ins: d("n_tup_ins"), upd: d("n_tup_upd"), hot: d("n_tup_hot_upd"), del: d("n_tup_del"), bytes: d("bytes") };
  }).filter((t) => t.ins + t.upd + t.del > 0 || t.bytes > 0).sort((a, b) => b.bytes - a.bytes);
  console.log("\nRow writes per event (pg_stat_user_tables) and table+index+toast growth per event:");
  console.log("| table | inserts | updates (HOT) | deletes | bytes/event |");
  console.log("|---|---|---|---|---|");
  for (const t of tables) {
    console.log(`| ${t.name} | ${round(t.ins / n, 3)} | ${round(t.upd / n, 3)} (${round(t.hot / n, 3)}) | ${round(t.del / n, 3)} | ${round(t.bytes / n, 0)} |`);
  }
  out.tables = tables.map((t) => ({
    ...t, ins: round(t.ins / n, 3), upd: round(t.upd / n, 3), hot: round(t.hot / n, 3), del: round(t.del / n, 3), bytes: round(t.bytes / n, 0),
  }));

  const samples = [...p.waits.counts.values()].reduce((a, b) => a + b, 0);
  console.log(`\nBackends of ${p.label} in pg_stat_activity, ${p.waits.ticks} samples every 100 ms (average backends per sample; share):`);
  const waits = [...p.waits.counts.entries()].sort((a, b) => b[1] - a[1]).map(([key, count]) => ({
    state: key,
    avg_backends: round(count / p.waits.ticks, 2),
    share: round(count / samples, 3),
  }));
  for (const x of waits) console.log(`  ${x.state}: ${x.avg_backends} (${round(x.share * 100, 1)}%)`);
  out.waits = waits;
  return out;
}

function lsnDiff(a: string, b: string): number {
  const parse = (lsn: string) => {
    const [hi, lo] = lsn.split("/");
    return parseInt(hi, 16) * 2 ** 32 + parseInt(lo, 16);
  };
  return parse(b) - parse(a);
}

/**
 * Micro-measurements of each suspect, server side, in one backend: µs per operation, so the
 * per-event counts from the profile turn into a cost per event.
 */
async function suspects(sql: postgres.Sql, payload: string) {
  await sql.unsafe(`create schema if not exists bench_profile;
    create or replace function bench_profile.f_set() returns int language plpgsql set search_path to '' as $$ begin return 1; end $$;
    create or replace function bench_profile.f_plain() returns int language plpgsql as $$ begin return 1; end $$;
    create or replace function bench_profile.s_set(p int) returns int language sql immutable set search_path to ''
      as $$ select case p when 1 then 2 when 2 then 3 else 4 end $$;
    create or replace function bench_profile.s_plain(p int) returns int language sql immutable
      as $$ select case p when 1 then 2 when 2 then 3 else 4 end $$;
    create or replace function bench_profile.loop_us(p_kind text, p_n int, p_text text) returns float8 language plpgsql as $$
    declare t0 timestamptz; v jsonb; x int; t text; b boolean;
    begin
      t0 := clock_timestamp();
      for i in 1..p_n loop
        if p_kind = 'empty' then t := p_text;
        elsif p_kind = 'jsonb_parse' then v := (p_text || '')::jsonb;
        elsif p_kind = 'json_parse' then t := (p_text || '')::json::text;
        elsif p_kind = 'call_set' then x := bench_profile.f_set();
        elsif p_kind = 'call_plain' then x := bench_profile.f_plain();
        elsif p_kind = 'advisory_lock' then perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('stripe:evt_' || i, 0));
        elsif p_kind = 'try_advisory_lock' then b := pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('wake:email_queue', 0));
        elsif p_kind = 'notify' then perform pg_catalog.pg_notify('bench_profile', 'due');
        elsif p_kind = 'query_inline' then execute 'select bench_profile.s_plain($1)' into x using i;
        elsif p_kind = 'query_set' then execute 'select bench_profile.s_set($1)' into x using i;
        elsif p_kind = 'query_expr' then execute 'select case $1 when 1 then 2 when 2 then 3 else 4 end' into x using i;
        elsif p_kind = 'ext_check' then b := exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net');
        end if;
      end loop;
      return extract(epoch from clock_timestamp() - t0) * 1e6 / p_n;
    end $$;`);
  const kinds = ["empty", "jsonb_parse", "json_parse", "call_plain", "call_set", "advisory_lock", "try_advisory_lock", "notify", "ext_check", "query_expr", "query_inline", "query_set"];
  const us: Record<string, number> = {};
  for (const kind of kinds) {
    const n = kind === "advisory_lock" || kind === "notify" ? 2000 : 20000;
    const runs = [];
    for (let r = 0; r < 3; r++) {
      const [{ v }] = await sql.begin((tx) => tx`select bench_profile.loop_us(${kind}, ${n}, ${payload}) as v`);
      runs.push(Number(v));
    }
    us[kind] = runs.sort((a, b) => a - b)[1];
  }
  const net = (kind: string) => round(us[kind] - us.empty, 2);
  const micro = {
    payload_bytes: Buffer.byteLength(payload),
    jsonb_parse_us: net("jsonb_parse"),
    json_parse_us: net("json_parse"),
    plpgsql_call_us: net("call_plain"),
    plpgsql_call_with_set_search_path_us: net("call_set"),
    set_search_path_overhead_us: round(us.call_set - us.call_plain, 2),
    advisory_xact_lock_us: net("advisory_lock"),
    try_advisory_xact_lock_us: net("try_advisory_lock"),
    pg_notify_us: net("notify"),
    pg_extension_exists_check_us: net("ext_check"),
    // One fresh query per call, as each event's statement is: a SQL function with SET search_path
    // cannot be inlined, so its body is parsed and planned again in every query that calls it.
    query_with_case_expression_us: net("query_expr"),
    query_calling_inlinable_sql_function_us: net("query_inline"),
    query_calling_sql_function_with_set_search_path_us: net("query_set"),
    sql_function_not_inlined_overhead_us: round(us.query_set - us.query_inline, 2),
  };
  // Round-trip commit cost of a NOTIFY transaction vs a plain one, one client, autocommit.
  const rt = async (text: string) => {
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) await sql.unsafe(text);
    return ((performance.now() - t0) * 1000) / 500;
  };
  await rt("select 1");
  const plain = await rt("select 1");
  const notify = await rt("select pg_notify('bench_profile', 'due')");
  Object.assign(micro, { roundtrip_select1_us: round(plain, 1), roundtrip_notify_us: round(notify, 1) });
  return micro;
}

export async function benchStripeProfile(): Promise<void> {
  console.log(`stripe-profile: ${EVENTS} signed events (the stripe-webhook mix) at concurrency ${CONCURRENCY}, ` +
    "stripe-webhook then verify-and-store, on a throwaway cluster with pg_stat_statements and track_functions = all");
  const pg = await startProfilingPostgres();
  const functionEnv = { LOG_LEVEL: "warn", DB_POOL_MAX: "20" };
  let stack;
  let vasFn: ServedFunction | undefined;
  let sql: postgres.Sql | undefined;
  try {
    stack = await startThrowawayStack("bench-stripe-profile", functionEnv, pg.url);
    sql = postgres(stack.env.DATABASE_URL, { max: 2, onnotice: () => {} });
    await sql`create extension if not exists pg_stat_statements`;
    const settings = await sql`select name, setting from pg_settings where name in
      ('shared_preload_libraries', 'track_functions', 'pg_stat_statements.track', 'pg_stat_statements.track_planning', 'synchronous_commit', 'fsync', 'wal_level', 'shared_buffers', 'server_version')`;
    console.log("settings: " + settings.map((s) => `${s.name}=${s.setting}`).join(", "));
    const [fn] = stack.functions.filter((f) => f.name === "stripe-webhook");
    const url = `http://127.0.0.1:${fn.port}/stripe-webhook`;
    const secret = stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0];
    vasFn = await startVerifyAndStore(sql, { ...stack.env, ...functionEnv }, (line) => console.error(line));
    const vasUrl = `http://127.0.0.1:${vasFn.port}/`;
    const postmaster = await postmasterPid(sql);
    const pgCpu = () => (postmaster ? clusterCpu(postmaster) : NaN);

    const warm = await prepareEvents(sql, secret);
    await functionLoad(url, warm.slice(0, 400), CONCURRENCY);
    await functionLoad(vasUrl, warm.slice(0, 400), CONCURRENCY, "verify-and-store");
    const events = await prepareEvents(sql, secret);
    const profiles = [
      await profileRun(sql, stack.env.DATABASE_URL, "stripe-webhook", url, fn, events, pgCpu),
      await profileRun(sql, stack.env.DATABASE_URL, "verify-and-store", vasUrl, vasFn, events, pgCpu),
    ];
    const reports = profiles.map(report);
    const micro = await suspects(sql, events[0].payload);
    console.log("\nSuspects, measured alone (µs per operation, one backend, median of 3 loops):");
    for (const [k, v] of Object.entries(micro)) console.log(`  ${k}: ${v}`);
    console.log(JSON.stringify({ bench: "stripe-profile", concurrency: CONCURRENCY, load_average: loadAverage(), micro, profiles: reports }));
  } finally {
    await vasFn?.stop();
    await sql?.end();
    await stack?.dispose();
    await pg.stop();
  }
}
