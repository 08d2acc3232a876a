import type postgres from "postgres";
import type { Stack } from "../stack/stack.ts";

/** What a scenario runs against: a stack's URLs, keys and database. */
export interface ChaosTarget {
  env: Record<string, string>;
  sql: postgres.Sql;
  log: (line: string) => void;
  /** Serves one more process of a function, for a scenario that kills workers. */
  serveExtra?: Stack["serveExtra"];
}

/** POSTs `body` as JSON and returns the status, with the answer read to the end. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

/** A seeded generator of numbers in [0, 1) (an LCG), so a failing run replays exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => (state = (state * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * Drains the email queue through email-service until nothing is pending or sending, as the
 * wake-ups would. Narrowed to `recipients` when given. With `controlledClock`, each round first
 * makes retries' backoffs and abandoned leases due at once, as if their time had passed.
 */
export async function drainEmail(
  target: ChaosTarget,
  options: { recipients?: string[]; controlledClock?: boolean; rounds?: number } = {},
): Promise<void> {
  const { sql, env } = target;
  const mine = options.recipients ? sql`and recipient = any(${options.recipients})` : sql``;
  for (let round = 0; round < (options.rounds ?? 100); round++) {
    const [{ left }] = await sql<{ left: number }[]>`
      select count(*)::int as left from public.email_queue where status in ('pending', 'sending') ${mine}`;
    if (left === 0) return;
    if (options.controlledClock) {
      await sql`
        update public.email_queue set next_attempt_at = now(), locked_until = case when status = 'sending' then now() end
        where status in ('pending', 'sending') ${mine}`;
    }
    await postJson(`${env.SUPABASE_URL}/functions/v1/email-service`, { action: "drain" }, serviceRole(env));
  }
}

/** The service role's bearer header, which the workers take. */
export function serviceRole(env: Record<string, string>): Record<string, string> {
  return { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}` };
}

/**
 * Runs webhook-dispatcher until nothing due on `endpoints` can be claimed, as the wake-ups and
 * the sweep would: a dispatch that claims nothing while deliveries are due and their circuit is
 * closed is waiting for rate-limit tokens, which refill in real time, so it is called again.
 */
export async function dispatchUntilIdle(target: ChaosTarget, endpoints: string[]): Promise<void> {
  const { sql, env } = target;
  for (;;) {
    const response = await fetch(`${env.SUPABASE_URL}/functions/v1/webhook-dispatcher`, {
      method: "POST",
      headers: { ...serviceRole(env), "content-type": "application/json" },
      body: '{"action":"dispatch"}',
    });
    const { claimed } = await response.json() as { claimed: number };
    if (claimed > 0) continue;
    const [{ waiting }] = await sql<{ waiting: number }[]>`
      select count(*)::int as waiting from public.webhook_deliveries d
      join public.webhook_endpoints e on e.id = d.endpoint_id
      where d.endpoint_id = any(${endpoints}) and d.status = 'PENDING' and d.next_attempt_at <= now()
        and (d.locked_until is null or d.locked_until < now()) and e.circuit_state = 'closed'`;
    if (waiting === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * A controlled clock for partner deliveries: moves every time the retry schedule and the circuit
 * breaker read on `endpoints` back by `seconds`, as if that much time had passed. Rate-limit
 * buckets keep real time, so a receiver can measure the limit.
 */
export async function advanceDeliveryClock(sql: postgres.Sql, endpoints: string[], seconds: number): Promise<void> {
  const by = `${seconds} seconds`;
  await sql`
    update public.webhook_deliveries set next_attempt_at = next_attempt_at - ${by}::interval,
      locked_until = locked_until - ${by}::interval
    where endpoint_id = any(${endpoints}) and status = 'PENDING'`;
  await sql`
    update public.webhook_endpoints set circuit_changed_at = circuit_changed_at - ${by}::interval,
      failing_since = failing_since - ${by}::interval
    where id = any(${endpoints})`;
}

/** How many copies of each email the Resend stand-in's inbox holds, for recipients starting with `prefix`, keyed by `keyOf`. */
export async function inboxCopies(
  env: Record<string, string>,
  prefix: string,
  keyOf: (to: string, subject: string) => string,
): Promise<Map<string, number>> {
  const inbox = (await (await fetch(`${env.RESEND_BASE_URL}/inbox`)).json()).data as { to: string | string[]; subject: string }[];
  const copies = new Map<string, number>();
  for (const mail of inbox) {
    for (const to of [mail.to].flat()) {
      if (to.startsWith(prefix)) copies.set(keyOf(to, mail.subject), (copies.get(keyOf(to, mail.subject)) ?? 0) + 1);
    }
  }
  return copies;
}
