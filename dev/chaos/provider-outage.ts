import { randomUUID } from "node:crypto";
import type { ChaosTarget } from "./duplicate-storm.ts";
import type { ScenarioResult } from "./report.ts";

// The mix of the Resend stand-in's answers while it is unwell, per send request: 30% 500,
// 10% 429, 5% no answer at all, the rest sent.
const MIX: [number, Record<string, unknown>][] = [[0.3, { status: 500 }], [0.1, { status: 429, retryAfter: 0 }], [0.05, { mode: "timeout" }]];

/** A seeded generator, so a failing run replays the same failures. */
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * Provider outage: `scale` emails queued while the Resend stand-in fails its next send requests
 * in the MIX (one scripted answer per request, for as many requests as the batches will need,
 * twice over). The queue is drained, with retries made due at once (a controlled clock), until
 * nothing is left. Checked: every email ends sent, and each recipient got exactly one copy
 * (the idempotency keys absorb the retries of requests whose answer was lost).
 */
export async function providerOutage(target: ChaosTarget, scale: number, seed = 1): Promise<ScenarioResult> {
  const { sql, env } = target;
  const notes: string[] = [];
  const run = randomUUID().slice(0, 8);
  const recipients = Array.from({ length: scale }, (_, i) => `outage-${run}-${i}@example.com`);
  await post(`${env.RESEND_BASE_URL}/_control/rate-limit`, { perSecond: null });
  const next = random(seed);
  const requests = Math.ceil(scale / 10) * 2;
  let injected = 0;
  for (let i = 0; i < requests; i++) {
    const roll = next();
    let at = 0;
    const failure = MIX.find(([share]) => roll < (at += share))?.[1];
    if (failure) injected++;
    await post(`${env.RESEND_BASE_URL}/_control/failures`, { ...(failure ?? { mode: "pass" }), count: 1 });
  }
  for (const to of recipients) {
    await sql`select public.enqueue_email('password_reset', ${to}, ${sql.json({ reset_url: "https://shop.example/r" })}, ${`outage:${to}`})`;
  }
  const auth = { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}` };
  for (let round = 0; round < 200; round++) {
    const [{ left }] = await sql<{ left: number }[]>`
      select count(*)::int as left from public.email_queue where recipient = any(${recipients}) and status in ('pending', 'sending')`;
    if (left === 0) break;
    // The controlled clock: a retry's backoff and an abandoned lease are over at once.
    await sql`
      update public.email_queue set next_attempt_at = now(), locked_until = case when status = 'sending' then now() end
      where recipient = any(${recipients}) and status in ('pending', 'sending')`;
    await post(`${env.SUPABASE_URL}/functions/v1/email-service`, { action: "drain" }, auth);
  }
  const rows = await sql<{ status: string }[]>`select status from public.email_queue where recipient = any(${recipients})`;
  const notSent = rows.filter((r) => r.status !== "sent" && r.status !== "delivered").length;
  const inbox = (await (await fetch(`${env.RESEND_BASE_URL}/inbox`)).json()).data as { to: string | string[] }[];
  const copies = new Map<string, number>();
  for (const mail of inbox) for (const to of [mail.to].flat()) if (to.startsWith(`outage-${run}-`)) copies.set(to, (copies.get(to) ?? 0) + 1);
  // Back to a healthy stand-in (no pending failures, its rate limit restored; the inbox too).
  await post(`${env.RESEND_BASE_URL}/_control/reset`, {});
  const lost = scale - copies.size;
  const duplicated = [...copies.values()].reduce((sum, n) => sum + n - 1, 0);
  if (notSent > 0) notes.push(`${notSent} emails did not end sent`);
  if (lost > 0) notes.push(`${lost} recipients got no email`);
  if (duplicated > 0) notes.push(`${duplicated} extra copies reached recipients`);
  if (injected === 0) notes.push("no failure was injected");
  return {
    scenario: "provider-outage",
    sent: scale,
    effects: copies.size,
    lost,
    duplicated,
    refused: injected,
    wrong: notSent,
    pass: notSent === 0 && lost === 0 && duplicated === 0 && injected > 0,
    notes,
  };
}
