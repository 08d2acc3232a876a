import { randomUUID } from "node:crypto";
import { type Arrival, type PartnerReceiver, rateExcess, startPartnerReceiver } from "./partner-receiver.ts";
import { advanceDeliveryClock, type ChaosTarget, dispatchUntilIdle, serviceRole } from "./harness.ts";
import type { ScenarioResult } from "./report.ts";

// Five partners, each limited to 10 deliveries a second with a burst of 10: low enough that the
// backlog an outage leaves behind is paced by the limit, which the receivers then measure.
const ENDPOINTS = 5;
const PER_MINUTE = 600;
const BURST = 10;
// The receivers are down for a simulated hour, advanced 5 minutes at a time (the first retry's
// delay); afterwards the clock goes on until every delivery has arrived, for at most two days.
const STEP_SECONDS = 300;
const OUTAGE_SECONDS = 3600;
const GIVE_UP_SECONDS = 48 * 3600;
// Between the claim that spent a token and the request's arrival: the claim's commit, signing,
// and the loopback POST, well under this on one machine.
const ARRIVAL_SLACK_SECONDS = 0.25;

interface Partner {
  id: string;
  path: string;
}

async function createPartners(target: ChaosTarget, receiver: PartnerReceiver, tenant: string): Promise<Partner[]> {
  const partners: Partner[] = [];
  for (let i = 0; i < ENDPOINTS; i++) {
    const path = `/partner-${tenant.slice(0, 8)}-${i}`;
    const response = await fetch(`${target.env.SUPABASE_URL}/functions/v1/webhook-endpoints`, {
      method: "POST",
      headers: { ...serviceRole(target.env), "content-type": "application/json" },
      body: JSON.stringify({
        url: receiver.url(path),
        event_types: ["order.created"],
        tenant_id: tenant,
        rate_limit_per_minute: PER_MINUTE,
        rate_limit_burst: BURST,
      }),
    });
    const endpoint = await response.json();
    if (response.status !== 201) throw new Error(`creating a partner endpoint answered ${response.status}: ${JSON.stringify(endpoint)}`);
    receiver.trust(path, endpoint.secret);
    partners.push({ id: endpoint.id, path });
  }
  return partners;
}

/** Which partners' circuits are not closed now. */
async function openCircuits(target: ChaosTarget, ids: string[]): Promise<string[]> {
  const rows = await target.sql<{ id: string }[]>`
    select id from public.webhook_endpoints where id = any(${ids}) and circuit_state <> 'closed'`;
  return rows.map((row) => row.id);
}

/**
 * Partner outage: `scale` deliveries (order.created events to five rate-limited partners) while
 * every receiver answers 503 for a simulated hour, on a controlled clock that advances the retry
 * schedule and the circuit breakers 5 minutes at a time. Then the receivers come back and the
 * clock goes on until nothing is pending. Checked at the receivers: every delivery arrived,
 * genuine (its Standard Webhooks signature verified); no window of arrivals at a partner held
 * more than its token bucket allows; each circuit opened during the outage and is closed at the
 * end; and a repeat only ever carried the `webhook-id` of the first copy, so the receiver could
 * discard it (counted as absorbed).
 */
export async function partnerOutage(target: ChaosTarget, scale: number, _seed = 1): Promise<ScenarioResult> {
  const { sql } = target;
  const notes: string[] = [];
  const tenant = randomUUID();
  const receiver = await startPartnerReceiver();
  try {
    receiver.setDown(true);
    const partners = await createPartners(target, receiver, tenant);
    const ids = partners.map((p) => p.id);
    const events = Math.ceil(scale / ENDPOINTS);
    const published = await sql<{ id: string }[]>`
      select public.publish_event('order.created', ${tenant}::uuid, jsonb_build_object('chaos', n)) as id
      from generate_series(1, ${events}) n`;
    const eventIds = new Set(published.map((row) => row.id));
    target.log(`partner outage: ${events * ENDPOINTS} deliveries to ${ENDPOINTS} partners, receivers down`);

    const opened = new Set<string>();
    let simulated = 0;
    const round = async () => {
      await dispatchUntilIdle(target, ids);
      for (const id of await openCircuits(target, ids)) opened.add(id);
    };
    for (; simulated < OUTAGE_SECONDS; simulated += STEP_SECONDS) {
      await round();
      await advanceDeliveryClock(sql, ids, STEP_SECONDS);
    }
    receiver.setDown(false);
    target.log(`partner outage: receivers back after a simulated hour`);
    for (; simulated < GIVE_UP_SECONDS; simulated += STEP_SECONDS) {
      await round();
      const [{ pending }] = await sql<{ pending: number }[]>`
        select count(*)::int as pending from public.webhook_deliveries where endpoint_id = any(${ids}) and status = 'PENDING'`;
      if (pending === 0) break;
      await advanceDeliveryClock(sql, ids, STEP_SECONDS);
    }
    const stillOpen = await openCircuits(target, ids);
    const figures = judgeArrivals(receiver.arrivals(), partners, eventIds);
    await sql`update public.webhook_endpoints set active = false where id = any(${ids})`;

    if (figures.lost > 0) notes.push(`${figures.lost} deliveries never arrived`);
    if (figures.wrong > 0) notes.push(`${figures.wrong} requests were forged, unknown or beyond the rate limit (${figures.excess} over it)`);
    if (opened.size < ENDPOINTS) notes.push(`${ENDPOINTS - opened.size} circuits never opened`);
    if (stillOpen.length > 0) notes.push(`${stillOpen.length} circuits are still not closed`);
    notes.push(`info: ${figures.refused} attempts met the outage; after ${(simulated / 3600).toFixed(1)} simulated hours nothing was pending`);
    const pass = figures.lost === 0 && figures.wrong === 0 && figures.duplicated === 0 && opened.size === ENDPOINTS &&
      stillOpen.length === 0 && figures.refused > 0;
    const { excess: _, ...counts } = figures;
    return { scenario: "partner-outage", sent: events * ENDPOINTS, ...counts, pass, notes };
  } finally {
    await receiver.close();
  }
}

/**
 * What the receivers saw: deliveries that never arrived with a 200 (lost); events that arrived
 * under two different ids (duplicated, which no receiver could discard); repeats of an id it
 * had already taken (absorbed); 503s during the outage (refused); and requests that were not
 * genuine, not one of the published events, or beyond a partner's rate limit (wrong).
 */
function judgeArrivals(arrivals: Arrival[], partners: Partner[], eventIds: Set<string>) {
  let lost = 0, duplicated = 0, absorbed = 0, wrong = 0, excess = 0, effects = 0;
  const refused = arrivals.filter((a) => a.status === 503).length;
  for (const partner of partners) {
    const mine = arrivals.filter((a) => a.path === partner.path);
    wrong += mine.filter((a) => !a.genuine || !eventIds.has(a.webhookId)).length;
    const over = Math.max(0, rateExcess(mine.map((a) => a.at), PER_MINUTE / 60, BURST, ARRIVAL_SLACK_SECONDS));
    excess += over;
    wrong += over;
    const taken = new Map<string, number>();
    // The order each event was published for, by the ids it arrived under: more than one id
    // for the same order is a duplicate no receiver could discard.
    const idsPerOrder = new Map<unknown, Set<string>>();
    for (const a of mine.filter((a) => a.status === 200)) {
      taken.set(a.webhookId, (taken.get(a.webhookId) ?? 0) + 1);
      const order = JSON.parse(a.body).data.object.chaos;
      idsPerOrder.set(order, (idsPerOrder.get(order) ?? new Set()).add(a.webhookId));
    }
    effects += taken.size;
    lost += [...eventIds].filter((id) => !taken.has(id)).length;
    absorbed += [...taken.values()].reduce((sum, n) => sum + n - 1, 0);
    duplicated += [...idsPerOrder.values()].reduce((sum, ids) => sum + ids.size - 1, 0);
  }
  return { effects, lost, duplicated, absorbed, refused, wrong, excess };
}
