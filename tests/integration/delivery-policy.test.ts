import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { type AttemptJson, deliveryQueue } from "../../supabase/functions/webhook-dispatcher/queue.ts";
import { postDelivery } from "../../supabase/functions/webhook-dispatcher/send.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { testSql } from "../helpers/stack.ts";

// complete_webhook_deliveries is called directly on deliveries of this file's own endpoints:
// inactive ones (no dispatch run would claim them anyway on the shared database), each in a
// tenant of its own, so nothing another file publishes reaches them.
const sql = testSql();
let receiver: Receiver;
let policy: {
  retry_delays_seconds: number[];
  max_attempts: number;
  jitter: number;
  retry_after_max_seconds: number;
  circuit_threshold: number;
  disable_after: string;
  response_body_limit: number;
};

beforeAll(async () => {
  receiver = await startReceiver();
  [policy] = await sql<(typeof policy)[]>`select * from public.webhook_delivery_policy()`;
});
afterAll(async () => {
  await receiver?.close();
});

async function endpoint(options: { tenant?: string; active?: boolean; types?: string[] } = {}) {
  const [row] = await sql`
    insert into public.webhook_endpoints (url, secret, tenant_id, active, event_types)
    values ('https://partner.example/hook', ${`whsec_${randomBytes(24).toString("base64")}`},
            ${options.tenant ?? randomUUID()}, ${options.active ?? false}, ${options.types ?? ["*"]})
    returning id, tenant_id`;
  return row as { id: string; tenant_id: string };
}

/** `count` pending deliveries to `endpointId`, each at its `attempts`-th attempt (as the claim leaves it). */
async function deliveries(endpointId: string, count: number, attempts = 1): Promise<string[]> {
  const rows = await sql`
    with events as (
      insert into public.outbound_events (type, api_version, data)
      select 'order.updated', public.webhook_api_version(), jsonb_build_object('object', jsonb_build_object('n', g))
      from generate_series(1, ${count}) g
      returning id
    )
    insert into public.webhook_deliveries (event_id, endpoint_id, attempts, locked_until, locked_by)
    select id, ${endpointId}, ${attempts}, now() + interval '1 minute', 'delivery-policy-test' from events
    returning id`;
  return rows.map((row) => row.id as string);
}

const attempt = (deliveryId: string, statusCode: number | null, extra: Partial<AttemptJson> = {}): AttemptJson => ({
  delivery_id: deliveryId,
  status_code: statusCode,
  refused: false,
  started_at: new Date().toISOString(),
  duration_ms: 3,
  response_body: "",
  error: statusCode === null || statusCode >= 300 ? `HTTP ${statusCode}` : null,
  retry_after_seconds: null,
  circuit_threshold: null,
  ...extra,
});

/** One call, one batch: what the dispatcher sends when these attempts finish together. */
async function complete(attempts: AttemptJson[]) {
  const rows = await sql`select * from public.complete_webhook_deliveries(${jsonb(sql, attempts)})`;
  return Object.fromEntries(rows.map((row) => [row.delivery_id, row.status]));
}

async function endpointRow(id: string) {
  const [row] = await sql`select * from public.webhook_endpoints where id = ${id}`;
  return row;
}

describe("what an answer means", () => {
  it("follows the contract for every status code and for no answer at all", async () => {
    const rows = await sql`
      select code, public.webhook_attempt_outcome(code, false) as outcome from generate_series(100, 599) code
      union all select null, public.webhook_attempt_outcome(null, false)`;
    const contract = (code: number | null) => {
      if (code === null) return "retry";
      if (code >= 200 && code < 300) return "success";
      if (code === 410) return "gone";
      if ((code >= 300 && code < 400) || code === 408 || code === 429 || code >= 500) return "retry";
      return "failed";
    };
    expect(rows.map((row) => [row.code, row.outcome])).toEqual(rows.map((row) => [row.code, contract(row.code)]));
  });

  it("fails for good an address the SSRF guard refused, whatever else is known", async () => {
    const [row] = await sql`select public.webhook_attempt_outcome(null, true) as outcome`;
    expect(row.outcome).toBe("failed");
  });
});

describe("one policy that SQL and the dispatcher both read", () => {
  it("has the numbers the README promises", () => {
    expect(policy).toMatchObject({
      retry_delays_seconds: [300, 1800, 7200, 43200, 86400],
      max_attempts: 6,
      jitter: 0.2,
      retry_after_max_seconds: 86400,
      circuit_threshold: 5,
      disable_after: "5 days",
      response_body_limit: 2048,
    });
  });

  it("the dispatcher reads as much of an answer as the attempt log keeps, from the policy", async () => {
    const queue = deliveryQueue(sql);
    const { response_body_limit: limit } = await queue.policy();
    receiver.answer("/long", { status: 200, body: "x".repeat(limit * 3) });
    const result = await postDelivery(new URL(receiver.url("/long")), ["127.0.0.1"], "{}", {}, { timeoutMs: 5000, bodyBytes: limit });
    expect(result.body).toHaveLength(limit);

    const e = await endpoint();
    const [id] = await deliveries(e.id, 1);
    const status = await queue.complete(id, {
      statusCode: result.status,
      startedAt: new Date(),
      durationMs: result.durationMs,
      responseBody: result.body,
      error: result.error,
    });
    expect(status).toBe("SUCCESS");
    const [row] =
      await sql`select length(response_body) as kept from public.webhook_delivery_attempts where delivery_id = ${id}`;
    expect(row.kept).toBe(limit);
  });
});

describe("completing a batch", () => {
  it("counts every failure of a batch against its endpoint, and opens the circuit at the policy's threshold", async () => {
    const [opening, below] = [await endpoint(), await endpoint()];
    const failing = await deliveries(opening.id, policy.circuit_threshold);
    const fewer = await deliveries(below.id, policy.circuit_threshold - 1);
    const statuses = await complete([...failing, ...fewer].map((id) => attempt(id, 500)));
    expect(Object.values(statuses)).toEqual(Array(failing.length + fewer.length).fill("PENDING"));
    expect(await endpointRow(opening.id)).toMatchObject({
      consecutive_failures: policy.circuit_threshold,
      circuit_state: "open",
    });
    expect(await endpointRow(below.id)).toMatchObject({
      consecutive_failures: policy.circuit_threshold - 1,
      circuit_state: "closed",
    });
    const waits = await sql`
      select extract(epoch from next_attempt_at - now())::float8 as wait from public.webhook_deliveries
      where id = any (${failing})`;
    for (const { wait } of waits) {
      expect(wait).toBeGreaterThan(policy.retry_delays_seconds[0] * 0.8 - 5);
      expect(wait).toBeLessThanOrEqual(policy.retry_delays_seconds[0] * 1.2);
    }
  });

  it("takes the dispatcher's threshold (WEBHOOK_CIRCUIT_THRESHOLD) over the policy's when it passes one", async () => {
    const e = await endpoint();
    const ids = await deliveries(e.id, 2);
    await complete(ids.map((id) => attempt(id, 503, { circuit_threshold: 2 })));
    expect(await endpointRow(e.id)).toMatchObject({ consecutive_failures: 2, circuit_state: "open" });
  });

  it("lets a success in the batch end the run of failures before the batch's failures count", async () => {
    const e = await endpoint();
    await sql`update public.webhook_endpoints set consecutive_failures = 4, failing_since = now() - interval '1 day'
      where id = ${e.id}`;
    const [ok, bad] = await deliveries(e.id, 2);
    expect(await complete([attempt(ok, 200), attempt(bad, 500)])).toEqual({ [ok]: "SUCCESS", [bad]: "PENDING" });
    const row = await endpointRow(e.id);
    expect(row).toMatchObject({ consecutive_failures: 1, circuit_state: "closed", active: false });
    expect(row.last_success_at).toBeInstanceOf(Date);
    expect(Date.now() - row.failing_since.getTime()).toBeLessThan(60_000);
  });

  it("exhausts at the policy's attempt limit and disables after its window, publishing both operational events", async () => {
    const tenant = randomUUID();
    const ops = await endpoint({ tenant, active: true, types: ["message.attempt.exhausted", "endpoint.disabled"] });
    const e = await endpoint({ tenant });
    await sql`update public.webhook_endpoints set failing_since = now() - ${policy.disable_after}::interval - interval '1 minute'
      where id = ${e.id}`;
    const [last] = await deliveries(e.id, 1, policy.max_attempts);
    const [retried] = await deliveries(e.id, 1, policy.max_attempts - 1);
    try {
      expect(await complete([attempt(last, 500), attempt(retried, 500)])).toEqual({
        [last]: "RETRY_EXHAUSTED",
        [retried]: "PENDING",
      });
      expect(await endpointRow(e.id)).toMatchObject({
        active: false,
        disabled_reason: `no successful delivery for ${policy.disable_after}`,
      });
      const events = await sql`
        select ev.type, ev.data -> 'object' as object from public.webhook_deliveries d
        join public.outbound_events ev on ev.id = d.event_id
        where d.endpoint_id = ${ops.id} order by ev.type`;
      expect(events).toEqual([
        { type: "endpoint.disabled", object: expect.objectContaining({ endpoint_id: e.id, reason: "failing" }) },
        {
          type: "message.attempt.exhausted",
          object: expect.objectContaining({ delivery_id: last, attempts: policy.max_attempts, last_status_code: 500 }),
        },
      ]);
    } finally {
      await sql`update public.webhook_endpoints set active = false where id = ${ops.id}`;
    }
  });

  it("answers a delivery that is no longer pending with its status, and one that does not exist with MISSING", async () => {
    const e = await endpoint();
    const [done] = await deliveries(e.id, 1);
    await complete([attempt(done, 404)]);
    const missing = randomUUID();
    expect(await complete([attempt(done, 200), attempt(missing, 200)])).toEqual({
      [done]: "FAILED",
      [missing]: "MISSING",
    });
    const [{ n }] =
      await sql`select count(*)::int as n from public.webhook_delivery_attempts where delivery_id = ${done}`;
    expect(n).toBe(1);
  });
});

describe("handing claimed deliveries back", () => {
  it("unleases the worker's pending deliveries with their attempt uncounted and their tokens returned", async () => {
    const e = await endpoint();
    const [first, second, other, done] = await deliveries(e.id, 4);
    await sql`update public.webhook_deliveries set locked_by = 'another-worker' where id = ${other}`;
    await complete([attempt(done, 200)]);
    await sql`
      insert into public.rate_limit_buckets (key, tokens, updated_at)
      values (${`webhook-endpoint:${e.id}`}, 3, now())`;

    const release = (ids: string[]) =>
      sql<{ released: number }[]>`
        select public.release_webhook_deliveries('delivery-policy-test', ${ids}::uuid[]) as released`;
    expect((await release([first, second, other, done]))[0].released).toBe(2);

    const rows = await sql`
      select id, status, attempts, locked_until, locked_by from public.webhook_deliveries
      where endpoint_id = ${e.id}`;
    const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
    for (const id of [first, second]) {
      expect(byId[id]).toMatchObject({ status: "PENDING", attempts: 0, locked_until: null, locked_by: null });
    }
    // Another worker's lease and a finished delivery are not this worker's to hand back.
    expect(byId[other]).toMatchObject({ attempts: 1, locked_by: "another-worker" });
    expect(byId[done]).toMatchObject({ status: "SUCCESS" });
    const [bucket] = await sql`select tokens from public.rate_limit_buckets where key = ${`webhook-endpoint:${e.id}`}`;
    expect(bucket.tokens).toBe(5);
    // Released twice, counted once.
    expect((await release([first, second]))[0].released).toBe(0);
  });
});
