import { describe, expect, it } from "vitest";
import { createLogger } from "../../supabase/functions/_shared/log.ts";
import type { UrlCheck } from "../../supabase/functions/_shared/ssrf.ts";
import { dispatch, type DispatchDeps } from "../../supabase/functions/webhook-dispatcher/dispatch.ts";
import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryQueue,
} from "../../supabase/functions/webhook-dispatcher/queue.ts";
import type { SendLimits } from "../../supabase/functions/webhook-dispatcher/send.ts";

const delivery = (id: string, url = "https://partner.example/hook"): ClaimedDelivery => ({
  delivery_id: id,
  attempt: 1,
  event_id: `evt_${id}`,
  event_type: "order.updated",
  payload: "{}",
  endpoint_id: "e1",
  url,
  secret: `whsec_${Buffer.from("a".repeat(24)).toString("base64")}`,
  previous_secret: null,
  legacy_signature: false,
});

/** A queue that hands out `claims` once, answers with the policy given, and records completions. */
function fakeQueue(claims: ClaimedDelivery[], statuses: Record<string, string>, bodyLimit = 77) {
  const completed: { id: string; record: AttemptRecord; threshold?: number }[] = [];
  let pending = [...claims];
  const queue = {
    policy: () => Promise.resolve({ response_body_limit: bodyLimit }),
    claim: () => {
      const batch = pending;
      pending = [];
      return Promise.resolve(batch);
    },
    complete: (id: string, record: AttemptRecord, threshold?: number) => {
      completed.push({ id, record, threshold });
      return Promise.resolve(statuses[id]);
    },
  } as unknown as DeliveryQueue;
  return { queue, completed };
}

/**
 * A queue over a list of pending deliveries: a claim takes the first `limit`, a release puts
 * deliveries back in front; every claim (with the sends in flight then) and release is recorded.
 */
function listQueue(count: number, inFlight: () => number, complete = () => Promise.resolve("SUCCESS")) {
  let pending = Array.from({ length: count }, (_, i) => delivery(`d${i}`));
  const claims: { limit: number; inFlight: number }[] = [];
  const releases: string[][] = [];
  const queue = {
    policy: () => Promise.resolve({ response_body_limit: 77 }),
    claim: (_worker: string, limit: number) => {
      claims.push({ limit, inFlight: inFlight() });
      const batch = pending.slice(0, limit);
      pending = pending.slice(limit);
      return Promise.resolve(batch);
    },
    release: (_worker: string, ids: string[]) => {
      releases.push(ids);
      pending = [...ids.map((id) => delivery(id)), ...pending];
      return Promise.resolve(ids.length);
    },
    complete,
  } as unknown as DeliveryQueue;
  return { queue, claims, releases };
}

/** A post that takes `ms` and answers 204, counting the posts in flight. */
function slowPost(ms: number, sent: string[], fail?: (id: string) => boolean) {
  const state = { inFlight: 0 };
  const post: DispatchDeps["post"] = async (_url, _addresses, _body, headers) => {
    // The fake deliveries' events are evt_<delivery id>.
    const id = headers["webhook-id"].replace(/^evt_/, "");
    if (fail?.(id)) throw new Error(`post of ${id} failed`);
    state.inFlight++;
    await new Promise((resolve) => setTimeout(resolve, ms));
    state.inFlight--;
    sent.push(id);
    return { status: 204, body: "", retryAfterSeconds: null, error: null, durationMs: ms };
  };
  return { post, state };
}

function deps(queue: DeliveryQueue, overrides: Partial<DispatchDeps> = {}) {
  const sent: { url: string; addresses: string[]; limits: SendLimits }[] = [];
  const all: DispatchDeps = {
    queue,
    checkUrl: (url): Promise<UrlCheck> =>
      Promise.resolve(
        url.includes("forbidden")
          ? { ok: false, code: "forbidden", reason: "loopback address" }
          : url.includes("unresolvable")
          ? { ok: false, code: "unresolvable", reason: "no address" }
          : { ok: true, url: new URL(url), addresses: ["203.0.113.7"] },
      ),
    post: (url, addresses, _body, _headers, limits) => {
      sent.push({ url: url.href, addresses, limits });
      return Promise.resolve({ status: 503, body: "busy", retryAfterSeconds: 30, error: "HTTP 503", durationMs: 4 });
    },
    workerId: "test",
    leaseSeconds: 60,
    cooldownSeconds: 60,
    timeoutMs: 1234,
    concurrency: 4,
    budgetMs: 5000,
    log: createLogger({}, { sink: () => {} }),
    ...overrides,
  };
  return { deps: all, sent };
}

describe("dispatch", () => {
  it("sends to the addresses the SSRF guard checked, reading as much as the policy keeps, within the timeout", async () => {
    const { queue } = fakeQueue([delivery("d1")], { d1: "PENDING" }, 77);
    const { deps: d, sent } = deps(queue);
    await dispatch(d);
    expect(sent).toEqual([{
      url: "https://partner.example/hook",
      addresses: ["203.0.113.7"],
      limits: { timeoutMs: 1234, bodyBytes: 77 },
    }]);
  });

  it("reports what it saw and leaves the threshold to the policy unless WEBHOOK_CIRCUIT_THRESHOLD is set", async () => {
    const { queue, completed } = fakeQueue([delivery("d1")], { d1: "PENDING" });
    await dispatch(deps(queue).deps);
    expect(completed).toEqual([{
      id: "d1",
      record: {
        statusCode: 503,
        startedAt: expect.any(Date),
        durationMs: 4,
        responseBody: "busy",
        error: "HTTP 503",
        retryAfterSeconds: 30,
      },
      threshold: undefined,
    }]);

    const configured = fakeQueue([delivery("d2")], { d2: "PENDING" });
    await dispatch(deps(configured.queue, { circuitThreshold: 3 }).deps);
    expect(configured.completed[0].threshold).toBe(3);
  });

  it("sends nothing to an address the SSRF guard refuses, and retries one that does not resolve yet", async () => {
    const claims = [delivery("d1", "https://forbidden.example/"), delivery("d2", "https://unresolvable.example/")];
    const { queue, completed } = fakeQueue(claims, { d1: "FAILED", d2: "PENDING" });
    const { deps: d, sent } = deps(queue);
    const report = await dispatch(d);
    expect(sent).toEqual([]);
    const byId = Object.fromEntries(completed.map((c) => [c.id, c.record]));
    expect(byId.d1).toMatchObject({ statusCode: null, refused: true, error: expect.stringContaining("SSRF") });
    expect(byId.d2).toMatchObject({ statusCode: null, refused: false });
    expect(report).toEqual({ claimed: 2, succeeded: 0, retried: 1, failed: 1 });
  });

  it("counts each delivery by the status the database gave it", async () => {
    const claims = ["d1", "d2", "d3"].map((id) => delivery(id));
    const { queue } = fakeQueue(claims, { d1: "SUCCESS", d2: "PENDING", d3: "RETRY_EXHAUSTED" });
    expect(await dispatch(deps(queue).deps)).toEqual({ claimed: 3, succeeded: 1, retried: 1, failed: 1 });
  });

  it("claims the next batch while the pool is busy, never more than two pools ahead, and sends all it claimed", async () => {
    const sent: string[] = [];
    const { post, state } = slowPost(5, sent);
    const { queue, claims } = listQueue(40, () => state.inFlight);
    expect(await dispatch(deps(queue, { post }).deps)).toEqual({ claimed: 40, succeeded: 40, retried: 0, failed: 0 });
    expect(new Set(sent).size).toBe(40);
    // A pool of 4 and two pools ahead: no claim asks for more than 12 at once.
    expect(Math.max(...claims.map((c) => c.limit))).toBeLessThanOrEqual(12);
    expect(claims.slice(1).some((c) => c.inFlight > 0)).toBe(true);
  });

  it("hands back what waits too long for a slot, its token unspent, and claims only for free slots afterwards", async () => {
    const sent: string[] = [];
    // Partners slower than a claimed delivery may wait (100 ms): the eight claimed ahead go back.
    const { post, state } = slowPost(250, sent);
    const { queue, claims, releases } = listQueue(12, () => state.inFlight);
    expect(await dispatch(deps(queue, { post }).deps)).toEqual({ claimed: 12, succeeded: 12, retried: 0, failed: 0 });
    expect(releases).toEqual([["d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11"]]);
    expect([...sent].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `d${i}`).sort());
    expect(claims[0].limit).toBe(12);
    expect(claims.slice(1).every((c) => c.limit <= 4)).toBe(true);
  });

  it("hands back everything waiting once a failure stops the run, and sends none of it", async () => {
    const sent: string[] = [];
    const { post, state } = slowPost(20, sent, (id) => id === "d0");
    const { queue, releases } = listQueue(4, () => state.inFlight);
    await expect(dispatch(deps(queue, { post, concurrency: 2 }).deps)).rejects.toThrow("post of d0 failed");
    expect(releases).toEqual([["d2", "d3"]]);
    expect(sent).toEqual(["d1"]);
  });

  it("claims nothing ahead when the lease could not cover a delivery that waits for a slot", async () => {
    const limits: number[] = [];
    const queue = {
      policy: () => Promise.resolve({ response_body_limit: 77 }),
      claim: (_worker: string, limit: number) => {
        limits.push(limit);
        return Promise.resolve([]);
      },
      complete: () => Promise.resolve("SUCCESS"),
    } as unknown as DeliveryQueue;
    await dispatch(deps(queue, { leaseSeconds: 10, timeoutMs: 15_000 }).deps);
    expect(limits).toEqual([4]);
  });
});
