import { randomUUID } from "node:crypto";
import { type ChaosTarget, drainEmail, inboxCopies, postJson, seededRandom } from "./harness.ts";
import type { ScenarioResult } from "./report.ts";

// The mix of the Resend stand-in's answers while it is unwell, per send request: 30% 500,
// 10% 429, 5% no answer at all, the rest sent.
const MIX: [number, Record<string, unknown>][] = [[0.3, { status: 500 }], [0.1, { status: 429, retryAfter: 0 }], [0.05, { mode: "timeout" }]];

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
  await postJson(`${env.RESEND_BASE_URL}/_control/rate-limit`, { perSecond: null });
  const next = seededRandom(seed);
  const requests = Math.ceil(scale / 10) * 2;
  let injected = 0;
  for (let i = 0; i < requests; i++) {
    const roll = next();
    let at = 0;
    const failure = MIX.find(([share]) => roll < (at += share))?.[1];
    if (failure) injected++;
    await postJson(`${env.RESEND_BASE_URL}/_control/failures`, { ...(failure ?? { mode: "pass" }), count: 1 });
  }
  for (const to of recipients) {
    await sql`select public.enqueue_email('password_reset', ${to}, ${sql.json({ reset_url: "https://shop.example/r" })}, ${`outage:${to}`})`;
  }
  await drainEmail(target, { recipients, controlledClock: true, rounds: 200 });
  const rows = await sql<{ status: string }[]>`select status from public.email_queue where recipient = any(${recipients})`;
  const notSent = rows.filter((r) => r.status !== "sent" && r.status !== "delivered").length;
  const copies = await inboxCopies(env, `outage-${run}-`, (to) => to);
  const { replays } = await (await fetch(`${env.RESEND_BASE_URL}/_control/stats`)).json();
  // Back to a healthy stand-in (no pending failures, its rate limit restored; the inbox too).
  await postJson(`${env.RESEND_BASE_URL}/_control/reset`, {});
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
    absorbed: replays,
    refused: injected,
    wrong: notSent,
    pass: notSent === 0 && lost === 0 && duplicated === 0 && injected > 0,
    notes,
  };
}
