import { randomUUID } from "node:crypto";
import { signStripePayload, stripeEvent, stripeId } from "../stripe/fixtures.ts";
import { startReceiver } from "../../tests/helpers/receiver.ts";
import { type ChaosTarget, inboxCopies, seededRandom, serviceRole } from "./harness.ts";
import type { ScenarioResult } from "./report.ts";
import {
  DEFAULT_THRESHOLDS,
  type Growth,
  growth,
  latencyPerMinute,
  MB,
  median,
  p99Flat,
  round,
  type SoakThresholds,
} from "./soak-analysis.ts";
import { cpuSeconds, loadAverage, processMemory } from "./soak-procs.ts";

export { postgresProcesses, postmasterPid } from "./soak-procs.ts";

/** What the soak runs for, how hard, and which processes it watches. */
export interface SoakOptions {
  minutes: number;
  /** Stripe events per second, open loop (sent on schedule whether or not earlier ones answered). */
  rate: number;
  seed: number;
  /** The Deno function processes, asked at every sample (a changed pid is a restart). */
  pids: () => { name: string; pid: number }[];
  /** Every process of the Postgres cluster (postmaster and children), asked at every sample; [] to skip. */
  postgresPids: () => number[];
  /** Default 10 s. */
  sampleEveryMs?: number;
  /** Tracking batches (10 events each) per second; default 2. */
  trackingPerSecond?: number;
  thresholds?: Partial<SoakThresholds>;
}

/** One sample: memory of every watched process, and the queues' depths. */
export interface SoakSample {
  /** ms since the load started (negative: before; past the load: the drain). */
  at: number;
  deno: { name: string; pid: number; rss: number; anon: number; cpu: number }[];
  postgres: { processes: number; rss: number; anon: number; shmem: number; pss: number; cpu: number };
  /** CPU seconds used so far by this process: the load generator, the gateway and the stand-ins. */
  harnessCpu: number;
  /** The machine's 1-minute load average (other work on a shared machine shows here). */
  load: number;
  emailPending: number;
  emailSending: number;
  deliveriesPending: number;
  eventsPending: number;
}

/** One minute of the load, for the table in the report. */
export interface SoakMinute {
  minute: number;
  sent: number;
  p50: number;
  p99: number;
  trackingP99: number;
  /** MB, median of the minute's samples, per Deno function. */
  rss: Record<string, number>;
  /**
   * MB, sums over the cluster's processes, medians of the minute's samples: VmRSS (shared buffers
   * counted once per backend that touched them), Pss (shared pages divided among sharers: the
   * cluster's real footprint, cache included) and RssAnon (private heap: where a leak shows).
   */
  postgresRss: number;
  postgresPss: number;
  postgresAnon: number;
  postgresProcesses: number;
  /** The deepest the queues were in the minute's samples. */
  emailPending: number;
  emailSending: number;
  deliveriesPending: number;
  /** CPU ms per Stripe event in the minute: stripe-webhook, Postgres (all processes), this process. */
  cpuPerEvent: { stripeWebhook: number; postgres: number; harness: number };
  /** Median 1-minute load average of the machine. */
  load: number;
}

export interface SoakResult extends ScenarioResult {
  minutes: SoakMinute[];
  samples: SoakSample[];
  /**
   * Per Deno function (VmRSS), and `postgres` (RssAnon sum: the private memory of the postmaster
   * and its children, where a leak shows), all judged; `postgres:rss` (VmRSS sum) and `postgres:pss`
   * (Pss sum) are reported, not judged: both grow while the shared buffers fill, which is a cache
   * warming up, not a leak.
   */
  growth: Record<string, Growth>;
  /** Reported, not judged. */
  info: Record<string, Growth>;
  p99: { first: number; last: number; ratio: number; flat: boolean };
  /** ms from the end of the load until every queue was empty; null if it never was within the limit. */
  drainedInMs: number | null;
  /** Stripe events per second actually sent. */
  achievedRate: number;
  thresholds: SoakThresholds;
}

type Kind = "paid" | "failed" | "refund" | "redelivery";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Soak: moderate mixed load for `minutes` at a fixed rate. Every second, `rate` Stripe events
 * through stripe-webhook (75% payments of new orders, 5% failed payments, 10% refunds of paid
 * orders, 10% redeliveries of earlier events), each order's email queued by the database, one
 * partner delivery per order transition (an endpoint for `payment.*` on a local receiver), and
 * tracking batches through analytics-service. The email queue is drained and the dispatcher
 * called every second, as the wake-ups would. Every 10 s: RSS of each Deno function and of
 * Postgres, and the queues' depths. Checked: memory flat, p99 flat, the queues empty within a
 * minute of the load stopping, every event stored once, every email and delivery arrived once,
 * every tracking event stored, and no function restarted.
 */
export async function soak(target: ChaosTarget, options: SoakOptions): Promise<SoakResult> {
  const { sql, env, log } = target;
  const thresholds: SoakThresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const sampleEveryMs = options.sampleEveryMs ?? 10_000;
  const trackingPerSecond = options.trackingPerSecond ?? 2;
  const durationMs = options.minutes * 60_000;
  const notes: string[] = [];
  const run = randomUUID().slice(0, 8);
  const random = seededRandom(options.seed);
  const secret = env.STRIPE_WEBHOOK_SECRET.split(",")[0];
  const service = { ...serviceRole(env), "content-type": "application/json" };
  const fn = (name: string) => `${env.SUPABASE_URL}/functions/v1/${name}`;

  // Orders exist before their payments, as in a shop; enough for every new-order event.
  const total = Math.ceil((options.rate * durationMs) / 1000);
  const orderIds = (await sql<{ id: string }[]>`
    insert into public.orders (amount_total, currency, customer_email)
    select 4200, 'usd', 'soak-' || ${run} || '-' || n || '@example.com' from generate_series(1, ${Math.ceil(total * 0.85) + 10}) n
    returning id`).map((o) => o.id);

  const receiver = await startReceiver();
  const created = await fetch(`${fn("webhook-endpoints")}/`, {
    method: "POST",
    headers: service,
    body: JSON.stringify({
      url: receiver.url(`/soak/${run}`),
      description: `soak ${run}`,
      event_types: ["payment.*"],
      rate_limit_per_minute: 100_000,
      rate_limit_burst: 100_000,
      max_in_flight: 32,
    }),
  });
  const endpoint = await created.json();
  if (created.status !== 201) throw new Error(`webhook-endpoints answered ${created.status}: ${JSON.stringify(endpoint)}`);

  // What was sent, to check against what happened.
  const events: { id: string; body: string; kind: Kind }[] = [];
  const counts: Record<Kind, number> = { paid: 0, failed: 0, refund: 0, redelivery: 0 };
  const refundable: { orderId: string; paymentIntentId: string }[] = [];
  let nextOrder = 0;
  const statuses = new Map<number, number>();
  const latencies: { at: number; ms: number }[] = [];
  const tracking: { at: number; ms: number }[] = [];
  const sessions: string[] = [];
  let trackingSent = 0;
  let trackingAccepted = 0;
  let trackingRefused = 0;
  const inFlight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
  };

  const pick = (): { kind: Kind; event: Record<string, unknown> | null; replay?: { id: string; body: string } } => {
    const roll = random();
    if (roll < 0.1 && refundable.length > 0) {
      const [order] = refundable.splice(Math.floor(random() * refundable.length), 1);
      return { kind: "refund", event: stripeEvent("charge.refunded", { ...order, amount: 4200 }) };
    }
    if (roll < 0.2 && events.length > 0) {
      return { kind: "redelivery", event: null, replay: events[Math.floor(random() * events.length)] };
    }
    const orderId = orderIds[nextOrder++];
    const paymentIntentId = stripeId("pi");
    if (roll < 0.25) return { kind: "failed", event: stripeEvent("payment_intent.payment_failed", { orderId, paymentIntentId }) };
    return { kind: "paid", event: stripeEvent("payment_intent.succeeded", { orderId, paymentIntentId }) };
  };

  const sendStripe = async (scheduled: number, t0: number) => {
    const { kind, event, replay } = pick();
    counts[kind]++;
    const body = replay ? replay.body : JSON.stringify(event);
    if (!replay) events.push({ id: event!.id as string, body, kind });
    let status = 0;
    try {
      const response = await fetch(fn("stripe-webhook"), {
        method: "POST",
        headers: { "content-type": "application/json", "stripe-signature": await signStripePayload(body, secret) },
        body,
      });
      await response.arrayBuffer();
      status = response.status;
    } catch {
      status = 0;
    }
    const done = performance.now();
    latencies.push({ at: scheduled - t0, ms: done - scheduled });
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status === 200 && kind === "paid") {
      const object = (event!.data as { object: { metadata: { order_id: string }; id: string } }).object;
      refundable.push({ orderId: object.metadata.order_id, paymentIntentId: object.id });
    }
  };

  const sendTracking = async (scheduled: number, t0: number) => {
    const session = `s-soak-${run}-${trackingSent++}`;
    sessions.push(session);
    const batch = Array.from({ length: 10 }, (_, i) => ({
      id: randomUUID(),
      name: i % 3 === 0 ? "view_content" : "page_view",
      url: `https://shop.example/products/p${i}?utm_source=soak`,
      ...(i % 3 === 0 ? { content_type: "product", content_id: `p${i}` } : {}),
    }));
    try {
      const response = await fetch(fn("analytics-service"), {
        method: "POST",
        headers: {
          authorization: `Bearer ${env.SUPABASE_ANON_KEY}`,
          "content-type": "application/json",
          origin: "http://localhost:3000",
          "x-forwarded-for": `198.18.${Math.floor(random() * 256)}.${1 + Math.floor(random() * 254)}`,
        },
        body: JSON.stringify({ session_id: session, events: batch }),
      });
      const answer = await response.json().catch(() => null);
      if (response.status === 200) trackingAccepted += answer?.accepted ?? 0;
      else trackingRefused++;
    } catch {
      trackingRefused++;
    }
    tracking.push({ at: scheduled - t0, ms: performance.now() - scheduled });
  };

  // The wake-ups' stand-ins: each loop calls its worker about once a second, never two at once.
  let workersStop = false;
  let workerErrors = 0;
  const everySecond = async (url: string, body: string) => {
    while (!workersStop) {
      const started = performance.now();
      try {
        const response = await fetch(url, { method: "POST", headers: service, body });
        await response.arrayBuffer();
        if (!response.ok) workerErrors++;
      } catch {
        workerErrors++;
      }
      await sleep(Math.max(0, 1000 - (performance.now() - started)));
    }
  };

  const depths = async () => {
    const [q] = await sql<{ pending: number; sending: number; deliveries: number; events: number }[]>`
      select (select count(*) from public.email_queue where status = 'pending')::int as pending,
             (select count(*) from public.email_queue where status = 'sending')::int as sending,
             (select count(*) from public.webhook_deliveries where status = 'PENDING')::int as deliveries,
             (select count(*) from public.webhook_events where status = 'pending')::int as events`;
    return q;
  };
  const samples: SoakSample[] = [];
  const seen = new Map<string, number>();
  const restarts: string[] = [];
  const sample = async (at: number) => {
    const deno = options.pids().flatMap(({ name, pid }) => {
      if (seen.has(name) && seen.get(name) !== pid) restarts.push(`${name} (pid ${seen.get(name)} → ${pid}, ${round(at / 1000, 0)} s)`);
      seen.set(name, pid);
      const memory = processMemory(pid);
      return memory ? [{ name, pid, rss: memory.rss, anon: memory.anon, cpu: cpuSeconds(pid) }] : [];
    });
    const pgPids = options.postgresPids();
    const pg = pgPids.map(processMemory).filter((m) => m !== null);
    const sum = (key: "rss" | "anon" | "shmem" | "pss") => pg.reduce((total, m) => total + m[key], 0);
    const q = await depths();
    samples.push({
      at,
      deno,
      postgres: {
        processes: pg.length,
        rss: sum("rss"),
        anon: sum("anon"),
        shmem: sum("shmem"),
        pss: sum("pss"),
        // Backends that exited since take their CPU time with them: an approximation.
        cpu: pgPids.reduce((total, pid) => total + cpuSeconds(pid), 0),
      },
      harnessCpu: cpuSeconds(process.pid),
      load: loadAverage(),
      emailPending: q.pending,
      emailSending: q.sending,
      deliveriesPending: q.deliveries,
      eventsPending: q.events,
    });
  };

  log(`soak: ${options.minutes} min at ${options.rate} Stripe events/s and ${trackingPerSecond * 10} tracking events/s (run ${run})`);
  const workers = [
    everySecond(fn("email-service"), '{"action":"drain"}'),
    everySecond(fn("webhook-dispatcher"), '{"action":"dispatch"}'),
  ];
  const t0 = performance.now();
  await sample(0);
  let stripeSent = 0;
  let trackingDue = 0;
  let nextSample = sampleEveryMs;
  let lastMinute = 0;
  while (performance.now() - t0 < durationMs) {
    const elapsed = performance.now() - t0;
    // Open loop: everything due by now goes out, on its schedule, whatever the answers.
    const due = Math.min(Math.floor((elapsed * options.rate) / 1000), total);
    while (stripeSent < due) track(sendStripe(t0 + (stripeSent++ * 1000) / options.rate, t0));
    const trackingTarget = Math.floor((elapsed * trackingPerSecond) / 1000);
    while (trackingDue < trackingTarget) track(sendTracking(t0 + (trackingDue++ * 1000) / trackingPerSecond, t0));
    if (elapsed >= nextSample) {
      nextSample += sampleEveryMs;
      // Not awaited: reading /proc and the queues must not hold back the open-loop sender.
      track(sample(elapsed));
    }
    if (Math.floor(elapsed / 60_000) > lastMinute) {
      lastMinute = Math.floor(elapsed / 60_000);
      const m = latencyPerMinute(latencies, lastMinute)[lastMinute - 1];
      const s = samples[samples.length - 1];
      log(`  minute ${lastMinute}: ${m.count} events, p50 ${round(m.p50)} ms, p99 ${round(m.p99)} ms; ` +
        `email pending ${s.emailPending}, deliveries pending ${s.deliveriesPending}; postgres ${round(s.postgres.rss / MB)} MB`);
    }
    await sleep(10);
  }
  const loadMs = performance.now() - t0;
  await Promise.all([...inFlight]);
  const achievedRate = stripeSent / (loadMs / 1000);

  // The load has stopped: the workers keep going until the queues are empty.
  const drainStart = performance.now();
  let drainedInMs: number | null = null;
  const expectedDeliveries = counts.paid + counts.failed + counts.refund;
  while (performance.now() - drainStart < thresholds.drainWithinMs) {
    const q = await depths();
    if (q.pending + q.sending + q.deliveries + q.events === 0) {
      drainedInMs = performance.now() - drainStart;
      break;
    }
    await sleep(500);
  }
  await sample(performance.now() - t0);
  const stuck = drainedInMs === null
    ? await sql<{ attempts: number; due_in_s: number; last_status_code: number | null; last_error: string | null }[]>`
      select attempts, round(extract(epoch from next_attempt_at - now()))::int as due_in_s, last_status_code, last_error
      from public.webhook_deliveries where status = 'PENDING' order by next_attempt_at limit 5`
    : [];
  workersStop = true;
  await Promise.all(workers);
  await sql`update public.webhook_endpoints set active = false where id = ${endpoint.id}`;

  // What happened, against what was sent.
  const ids = events.map((e) => e.id);
  const [stored] = await sql<{ rows: number; distinct: number; processed: number }[]>`
    select count(*)::int as rows, count(distinct event_id)::int as distinct,
           count(*) filter (where status = 'processed')::int as processed
    from public.webhook_events where provider = 'stripe' and event_id = any(${ids})`;
  const copies = await inboxCopies(env, `soak-${run}-`, (to, subject) => `${to} ${subject}`);
  const emailsArrived = copies.size;
  const emailsTwice = [...copies.values()].filter((n) => n > 1).length;
  const [emails] = await sql<{ queued: number; sent: number }[]>`
    select count(*)::int as queued, count(*) filter (where status in ('sent', 'delivered'))::int as sent
    from public.email_queue where recipient like ${`soak-${run}-%`}`;
  const received = receiver.received(`/soak/${run}`);
  const deliveryIds = new Set(received.map((r) => String(r.headers["webhook-id"])));
  const [deliveries] = await sql<{ success: number; other: number }[]>`
    select count(*) filter (where status = 'SUCCESS')::int as success, count(*) filter (where status <> 'SUCCESS')::int as other
    from public.webhook_deliveries where endpoint_id = ${endpoint.id}`;
  const [{ trackingStored }] = await sql<{ trackingStored: number }[]>`
    select count(*)::int as "trackingStored" from public.analytics_events where session_id = any(${sessions})`;
  await receiver.close();

  // Memory and latency: flat or not.
  const seriesOf = (value: (s: SoakSample) => number | undefined) =>
    samples.filter((s) => s.at <= loadMs).flatMap((s) => {
      const v = value(s);
      return v === undefined ? [] : [{ at: s.at, value: v }];
    });
  const growthBy: Record<string, Growth> = {};
  const info: Record<string, Growth> = {};
  for (const name of seen.keys()) growthBy[name] = growth(seriesOf((s) => s.deno.find((d) => d.name === name)?.rss), thresholds);
  if (samples.some((s) => s.postgres.processes > 0)) {
    growthBy.postgres = growth(seriesOf((s) => s.postgres.anon), thresholds);
    info["postgres:rss"] = growth(seriesOf((s) => s.postgres.rss), thresholds);
    info["postgres:pss"] = growth(seriesOf((s) => s.postgres.pss), thresholds);
  }
  const perMinute = latencyPerMinute(latencies, options.minutes);
  const trackingPerMinute = latencyPerMinute(tracking, options.minutes);
  const p99 = p99Flat(perMinute, thresholds);
  const minutes: SoakMinute[] = perMinute.map((m) => {
    const inMinute = samples.filter((s) => Math.floor(s.at / 60_000) === m.minute && s.at <= loadMs);
    const rss: Record<string, number> = {};
    for (const name of seen.keys()) {
      rss[name] = round(median(inMinute.flatMap((s) => s.deno.filter((d) => d.name === name).map((d) => d.rss))) / MB);
    }
    const at = (ms: number) => samples.reduce((best, s) => (Math.abs(s.at - ms) < Math.abs(best.at - ms) ? s : best));
    const [from, to] = [at(m.minute * 60_000), at((m.minute + 1) * 60_000)];
    const perEvent = (cpu: (s: SoakSample) => number) => round(((cpu(to) - cpu(from)) * 1000) / Math.max(1, m.count), 2);
    const stripeCpu = (s: SoakSample) => s.deno.find((d) => d.name === "stripe-webhook")?.cpu ?? 0;
    return {
      minute: m.minute,
      sent: m.count,
      p50: round(m.p50),
      p99: round(m.p99),
      trackingP99: round(trackingPerMinute[m.minute].p99),
      rss,
      postgresRss: round(median(inMinute.map((s) => s.postgres.rss)) / MB),
      postgresPss: round(median(inMinute.map((s) => s.postgres.pss)) / MB),
      postgresAnon: round(median(inMinute.map((s) => s.postgres.anon)) / MB),
      postgresProcesses: Math.max(0, ...inMinute.map((s) => s.postgres.processes)),
      emailPending: Math.max(0, ...inMinute.map((s) => s.emailPending)),
      emailSending: Math.max(0, ...inMinute.map((s) => s.emailSending)),
      deliveriesPending: Math.max(0, ...inMinute.map((s) => s.deliveriesPending)),
      cpuPerEvent: { stripeWebhook: perEvent(stripeCpu), postgres: perEvent((s) => s.postgres.cpu), harness: perEvent((s) => s.harnessCpu) },
      load: round(median(inMinute.map((s) => s.load)), 2),
    };
  });

  const refused = [...statuses].filter(([status]) => status !== 200).reduce((sum, [, n]) => sum + n, 0) + trackingRefused;
  const eventsLost = events.length - stored.processed;
  const emailsExpected = counts.paid + counts.failed + counts.refund;
  const emailsLost = emailsExpected - emailsArrived;
  const deliveriesLost = expectedDeliveries - deliveryIds.size;
  const trackingLost = trackingSent * 10 - trackingStored;
  const lost = Math.max(0, eventsLost) + Math.max(0, emailsLost) + Math.max(0, deliveriesLost) + Math.max(0, trackingLost);
  const duplicated = stored.rows - stored.distinct + emailsTwice + (received.length - deliveryIds.size);
  const grown = Object.entries(growthBy).filter(([, g]) => !g.flat);
  const wrong = grown.length + (p99.flat ? 0 : 1) + (drainedInMs === null ? 1 : 0) + restarts.length;

  const pass = lost === 0 && duplicated === 0 && refused === 0 && wrong === 0 && emails.queued === emailsExpected &&
    deliveries.success === expectedDeliveries && workerErrors === 0 && achievedRate >= options.rate * 0.95;
  if (!pass) {
    if (refused > 0) notes.push(`${refused} requests were not answered 200 (${[...statuses].map(([s, n]) => `${s}: ${n}`).join(", ")}; tracking refused ${trackingRefused})`);
    if (eventsLost !== 0) notes.push(`${eventsLost} of ${events.length} Stripe events did not end processed`);
    if (emailsLost !== 0 || emails.queued !== emailsExpected) {
      notes.push(`${emailsExpected} emails expected, ${emails.queued} queued, ${emails.sent} sent, ${emailsArrived} in the inbox`);
    }
    if (deliveriesLost !== 0 || deliveries.success !== expectedDeliveries) {
      notes.push(`${expectedDeliveries} deliveries expected, ${deliveryIds.size} received, ${deliveries.success} SUCCESS, ${deliveries.other} not`);
    }
    if (trackingLost !== 0) notes.push(`${trackingSent * 10} tracking events sent, ${trackingStored} stored`);
    if (duplicated > 0) notes.push(`${duplicated} effects twice (events ${stored.rows - stored.distinct}, emails ${emailsTwice}, deliveries ${received.length - deliveryIds.size})`);
    for (const [name, g] of grown) {
      notes.push(`${name === "postgres" ? "postgres (RssAnon sum)" : name} grew ${round(g.first / MB)} → ${round(g.last / MB)} MB (×${round(g.ratio, 2)}, ×${round(g.peakRatio, 2)} of the first third's peak; thirds after ${thresholds.warmupMs / 1000} s)`);
    }
    if (!p99.flat) notes.push(`p99 went ${round(p99.first)} → ${round(p99.last)} ms (×${round(p99.ratio, 2)})`);
    if (drainedInMs === null) {
      const last = samples[samples.length - 1];
      notes.push(`queues not empty ${thresholds.drainWithinMs / 1000} s after the load: email pending ${last.emailPending}, sending ${last.emailSending}, deliveries ${last.deliveriesPending}, events ${last.eventsPending}`);
      for (const d of stuck) {
        notes.push(`pending delivery: ${d.attempts} attempts, next in ${d.due_in_s} s, last ${d.last_status_code ?? "-"} ${d.last_error ?? ""}`);
      }
    }
    if (restarts.length > 0) notes.push(`function processes restarted: ${restarts.join(", ")}`);
    if (workerErrors > 0) notes.push(`${workerErrors} drain/dispatch calls failed`);
    if (achievedRate < options.rate * 0.95) notes.push(`the load reached ${round(achievedRate)} of ${options.rate} events/s`);
    for (const m of minutes) {
      notes.push(`minute ${m.minute}: ${m.sent} events, p50 ${m.p50} / p99 ${m.p99} ms, postgres ${m.postgresRss} MB, ` +
        `email pending ${m.emailPending}, deliveries pending ${m.deliveriesPending}`);
    }
  }
  return {
    scenario: "soak",
    sent: stripeSent,
    effects: stored.distinct,
    lost,
    duplicated,
    absorbed: counts.redelivery,
    refused,
    wrong,
    pass,
    notes,
    minutes,
    samples,
    growth: growthBy,
    info,
    p99,
    drainedInMs: drainedInMs === null ? null : Math.round(drainedInMs),
    achievedRate: round(achievedRate),
    thresholds,
  };
}
