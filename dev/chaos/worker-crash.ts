import { randomUUID } from "node:crypto";
import { startPartnerReceiver } from "./partner-receiver.ts";
import { type ChaosTarget, dispatchUntilIdle, drainEmail, inboxCopies, postJson, seededRandom, serviceRole } from "./harness.ts";
import type { ScenarioResult } from "./report.ts";

// Partners answer after 20 ms, so a killed dispatcher dies with requests in flight.
const ANSWER_DELAY_MS = 20;

/**
 * Serves a fresh process of `name`, calls it with `body`, and kills it with SIGKILL after a
 * seeded 50–450 ms, mid-batch: no finally block, no lease released, no answer recorded.
 */
async function killMidBatch(target: ChaosTarget, name: string, body: unknown, next: () => number): Promise<void> {
  const fn = await target.serveExtra!(name, {});
  const call = postJson(`http://127.0.0.1:${fn.port}/${name}`, body, serviceRole(target.env)).catch(() => 0);
  await new Promise((resolve) => setTimeout(resolve, 50 + next() * 400));
  fn.process.kill("SIGKILL");
  await call;
  await fn.exited;
}

/**
 * Worker crashes: `scale` emails and `scale` partner deliveries queued, then email-service and
 * webhook-dispatcher processes killed with SIGKILL mid-batch, `kills` times each. The leases
 * the dead workers held expire (a controlled clock), and the queues drain. Checked: every
 * email reached its recipient exactly once, the retries of sends whose answer died with the
 * worker answered by Resend from their idempotency keys (absorbed); every delivery arrived,
 * and every repeat a partner saw carried the first copy's `webhook-id` (absorbed as well).
 */
export async function workerCrash(target: ChaosTarget, scale: number, seed = 1, kills = 10): Promise<ScenarioResult> {
  const { sql, env } = target;
  if (!target.serveExtra) throw new Error("worker-crash needs a stack that can serve extra function processes");
  const notes: string[] = [];
  const next = seededRandom(seed);
  const run = randomUUID().slice(0, 8);
  const receiver = await startPartnerReceiver(ANSWER_DELAY_MS);
  try {
    const { replays: replaysBefore } = await (await fetch(`${env.RESEND_BASE_URL}/_control/stats`)).json();
    const recipients = Array.from({ length: scale }, (_, i) => `crash-${run}-${i}@example.com`);
    await sql`
      select public.enqueue_email('password_reset', r, ${sql.json({ reset_url: "https://shop.example/r" })}, 'crash:' || r)
      from unnest(${recipients}::text[]) r`;
    const tenant = randomUUID();
    const path = `/crash-${run}`;
    const response = await fetch(`${env.SUPABASE_URL}/functions/v1/webhook-endpoints`, {
      method: "POST",
      headers: { ...serviceRole(env), "content-type": "application/json" },
      body: JSON.stringify({
        url: receiver.url(path),
        event_types: ["order.created"],
        tenant_id: tenant,
        rate_limit_per_minute: 100_000,
        rate_limit_burst: 100_000,
        max_in_flight: 100,
      }),
    });
    const endpoint = await response.json();
    receiver.trust(path, endpoint.secret);
    const published = await sql<{ id: string }[]>`
      select public.publish_event('order.created', ${tenant}::uuid, jsonb_build_object('chaos', n)) as id
      from generate_series(1, ${scale}) n`;
    target.log(`worker crash: ${scale} emails and ${scale} deliveries queued; killing workers ${kills} times each`);

    for (let i = 0; i < kills; i++) {
      await killMidBatch(target, "email-service", { action: "drain" }, next);
      await killMidBatch(target, "webhook-dispatcher", { action: "dispatch" }, next);
    }
    // The dead workers' leases, expired: as if their lease time had passed.
    await sql`
      update public.webhook_deliveries set locked_until = now() - interval '1 second'
      where endpoint_id = ${endpoint.id} and status = 'PENDING' and locked_until is not null`;
    await dispatchUntilIdle(target, [endpoint.id]);
    await drainEmail(target, { recipients, controlledClock: true, rounds: 200 });

    const copies = await inboxCopies(env, `crash-${run}-`, (to) => to);
    const { replays } = await (await fetch(`${env.RESEND_BASE_URL}/_control/stats`)).json();
    const taken = new Map<string, number>();
    for (const a of receiver.arrivals()) if (a.status === 200) taken.set(a.webhookId, (taken.get(a.webhookId) ?? 0) + 1);
    const forged = receiver.arrivals().filter((a) => !a.genuine).length;
    const [{ pending }] = await sql<{ pending: number }[]>`
      select count(*)::int as pending from public.webhook_deliveries where endpoint_id = ${endpoint.id} and status <> 'SUCCESS'`;
    await sql`update public.webhook_endpoints set active = false where id = ${endpoint.id}`;

    const emailsLost = scale - copies.size;
    const deliveriesLost = published.filter((row) => !taken.has(row.id)).length;
    const emailedTwice = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
    const receiverRepeats = [...taken.values()].reduce((sum, n) => sum + n - 1, 0);
    const keyReplays = replays - replaysBefore;
    if (emailsLost > 0) notes.push(`${emailsLost} recipients got no email`);
    if (deliveriesLost > 0 || pending > 0) notes.push(`${deliveriesLost} deliveries never arrived (${pending} not SUCCESS)`);
    if (emailedTwice > 0) notes.push(`${emailedTwice} extra emails reached recipients`);
    if (forged > 0) notes.push(`${forged} deliveries failed verification at the receiver`);
    notes.push(
      `info: ${kills * 2} workers killed; Resend's idempotency keys absorbed ${keyReplays} repeated sends, ` +
        `the receiver saw ${receiverRepeats} repeated webhook-ids`,
    );
    const lost = emailsLost + deliveriesLost;
    return {
      scenario: "worker-crash",
      sent: scale * 2,
      effects: copies.size + taken.size,
      lost,
      duplicated: emailedTwice,
      absorbed: keyReplays + receiverRepeats,
      refused: 0,
      wrong: forged,
      pass: lost === 0 && pending === 0 && emailedTwice === 0 && forged === 0,
      notes,
    };
  } finally {
    await receiver.close();
  }
}
