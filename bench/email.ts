import postgres from "postgres";
import { serveFunction } from "../dev/stack/functions.ts";
import { startThrowawayStack, type ThrowawayStack } from "../dev/stack/throwaway.ts";
import { round } from "./lib/load.ts";

const EMAILS = Number(process.env.BENCH_EMAILS ?? 5000);
/** Resend's ceiling at its default limits: 5 requests/s × 100 emails per batch request. */
const PROVIDER_CEILING_PER_S = 500;

async function control(stack: ThrowawayStack, path: string, body: unknown) {
  const res = await fetch(`${stack.env.RESEND_BASE_URL}/_control/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`stand-in ${path}: ${res.status}`);
}

async function enqueue(sql: postgres.Sql, run: string, count: number) {
  await sql`
    insert into public.email_queue (template, recipient, data, idempotency_key)
    select 'password_reset', 'bench-' || ${run} || '-' || g || '@example.com',
           '{"reset_url": "https://shop.example/reset"}'::jsonb, 'bench:' || ${run} || ':' || g
    from generate_series(1, ${count}) g`;
}

/** Calls drain until every job of the run is sent; returns emails per second. */
async function drainAll(sql: postgres.Sql, url: string, key: string, run: string, count: number): Promise<number> {
  const start = performance.now();
  for (;;) {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
      body: '{"action":"drain"}',
    });
    if (!res.ok) throw new Error(`drain answered ${res.status}: ${await res.text()}`);
    await res.json();
    const [{ left }] = await sql`
      select count(*)::int as left from public.email_queue
      where idempotency_key like ${`bench:${run}:%`} and status in ('pending', 'sending')`;
    if (left === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const seconds = (performance.now() - start) / 1000;
  const [{ sent }] = await sql`
    select count(*)::int as sent from public.email_queue
    where idempotency_key like ${`bench:${run}:%`} and status in ('sent', 'delivered')`;
  if (sent !== count) throw new Error(`only ${sent} of ${count} emails were sent`);
  return count / seconds;
}

/**
 * The queue's own cost: the same claim, send-key and complete SQL functions the worker
 * calls, in the same batch sizes, with no HTTP in between.
 */
async function sqlOnly(sql: postgres.Sql, run: string, count: number): Promise<number> {
  const start = performance.now();
  let done = 0;
  while (done < count) {
    const jobs = await sql<{ id: string }[]>`select id from public.claim_email_jobs('bench', 400, 60)`;
    if (jobs.length === 0) break;
    for (let i = 0; i < jobs.length; i += 100) {
      const ids = jobs.slice(i, i + 100).map((job) => job.id);
      await sql`select public.assign_email_send_key(${ids}::uuid[], ${crypto.randomUUID()})`;
      await sql`select public.complete_email_jobs(${ids}::uuid[], ${ids.map((id) => `${run}-${id}`)}::text[])`;
    }
    done += jobs.length;
  }
  return done / ((performance.now() - start) / 1000);
}

/** `npm run bench -- email`: draining against the provider's limit, then without it. */
export async function benchEmail(): Promise<void> {
  console.log(`email: drain ${EMAILS} queued emails through email-service and the Resend stand-in`);
  console.log("starting a throwaway stack (embedded Postgres, migrations, Deno, Resend stand-in)...");
  const stack = await startThrowawayStack("bench-email", { LOG_LEVEL: "warn" });
  const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
  const key = stack.env.SUPABASE_SERVICE_ROLE_KEY;
  try {
    await control(stack, "rate-limit", { perSecond: 5 });
    await enqueue(sql, "limited", EMAILS);
    console.log("  at Resend's limits (5 requests/s, 100 emails per batch)...");
    const limited = await drainAll(sql, `${stack.env.SUPABASE_URL}/functions/v1/email-service`, key, "limited", EMAILS);
    console.log(`  ${round(limited)} emails/s → ${round(limited / PROVIDER_CEILING_PER_S, 3)} of the ${PROVIDER_CEILING_PER_S}/s ceiling`);

    await control(stack, "rate-limit", { perSecond: 0 });
    let unlimitedFigures = {};
    const unlimited = await serveFunction("email-service", {
      ...stack.env,
      LOG_LEVEL: "warn",
      RESEND_RATE_LIMIT_PER_SECOND: "1000000",
    }, () => {});
    try {
      await enqueue(sql, "unlimited", EMAILS);
      console.log("  with no provider limit...");
      const jobsPerS = await drainAll(sql, `http://127.0.0.1:${unlimited.port}/email-service`, key, "unlimited", EMAILS);
      await enqueue(sql, "baseline", EMAILS);
      const baseline = await sqlOnly(sql, "baseline", EMAILS);
      console.log(`  ${round(jobsPerS)} jobs/s; the same claim-and-complete SQL alone: ${round(baseline)} jobs/s → ratio ${round(jobsPerS / baseline, 3)}`);
      unlimitedFigures = {
        unlimited_jobs_per_s: round(jobsPerS),
        sql_baseline_jobs_per_s: round(baseline),
        unlimited_ratio: round(jobsPerS / baseline, 3),
      };
    } finally {
      await unlimited.stop();
    }
    console.log(JSON.stringify({
      bench: "email",
      emails: EMAILS,
      emails_per_s: round(limited),
      ratio: round(limited / PROVIDER_CEILING_PER_S, 3),
      ...unlimitedFigures,
    }));
  } finally {
    await sql.end();
    await stack.dispose();
  }
}
