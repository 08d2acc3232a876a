import type postgres from "postgres";

/** What a scenario runs against: a stack's URLs, keys and database. */
export interface ChaosTarget {
  env: Record<string, string>;
  sql: postgres.Sql;
  log: (line: string) => void;
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
    const response = await fetch(`${env.SUPABASE_URL}/functions/v1/email-service`, {
      method: "POST",
      headers: { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`, "content-type": "application/json" },
      body: '{"action":"drain"}',
    });
    await response.arrayBuffer();
  }
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
