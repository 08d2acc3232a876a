import { randomBytes, randomUUID } from "node:crypto";
import { createClient } from "@supabase/supabase-js";
import { describe, expect, it } from "vitest";
import { createTrackingClient, type TrackingClientOptions, TrackingError } from "../../client/tracking.ts";
import { functionUrl, stack, testSql } from "../helpers/stack.ts";

// The stack is shared with other files running in parallel: every client has its own session
// id, content ids and client address (per-address rate limits), and event names are unique.
const sql = testSql();

const hex = (bytes: number) => randomBytes(bytes).toString("hex");
/** A documentation-range IPv6 address of its own, for the per-address rate-limit buckets. */
const randomIp = () => `2001:db8:7c:${hex(2)}::${hex(2)}`;

interface Call {
  fn: string;
  at: number;
  headers: Headers;
  body: Record<string, unknown> | null;
}

/**
 * A tracking client over a real supabase-js client. `intercept` sees every call to a function
 * with the real fetch and decides what happens (default: pass through); `calls` records them.
 */
function tracker(
  options: TrackingClientOptions = {},
  intercept: (call: Call, real: () => Promise<Response>) => Promise<Response> = (_call, real) => real(),
) {
  const calls: Call[] = [];
  const errors: TrackingError[] = [];
  const supabase = createClient(stack.SUPABASE_URL, stack.SUPABASE_ANON_KEY, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: NoWebSocket as never },
    global: {
      headers: { "x-forwarded-for": randomIp() },
      fetch: (input, init) => {
        const url = new URL(input instanceof Request ? input.url : input);
        const call: Call = {
          fn: url.pathname.replace("/functions/v1/", ""),
          at: Date.now(),
          headers: new Headers(init?.headers),
          body: typeof init?.body === "string" ? JSON.parse(init.body) : null,
        };
        calls.push(call);
        return intercept(call, () => fetch(input, init));
      },
    },
  });
  const client = createTrackingClient(supabase, {
    flushIntervalMs: 0,
    retryBaseMs: 5,
    onError: (error) => errors.push(error),
    ...options,
  });
  return { client, calls, errors };
}

const page = (path = "") => `https://shop.example/${path}`;

async function storedEvents(sessionId: string) {
  return await sql<{ client_event_id: string; event_name: string; custom: boolean }[]>`
    select client_event_id, event_name, custom from public.analytics_events
    where session_id = ${sessionId} order by id`;
}

/**
 * supabase-js builds its realtime client in createClient, and Node 20 has no WebSocket to give
 * it. Nothing here opens a channel, so a transport that is never constructed will do.
 */
class NoWebSocket {
  constructor() {
    throw new Error("These tests use no realtime channels");
  }
}

const networkError = () => Promise.reject(new TypeError("fetch failed"));

describe("shares", () => {
  it("records a share through functions.invoke, then counts an identical one as a repeat", async () => {
    const { client, calls } = tracker();
    const contentId = `sku-${randomUUID()}`;
    const share = {
      url: page(`p/${contentId}?utm_source=newsletter&fbclid=abc`),
      content_type: "product",
      content_id: contentId,
      platform: "Twitter",
    };

    const first = await client.trackShare(share);
    expect(first).toMatchObject({ platform: "x", url: page(`p/${contentId}`), counted: true });
    expect(calls[0].headers.get("authorization")).toBe(`Bearer ${stack.SUPABASE_ANON_KEY}`);
    expect(calls[0].headers.get("idempotency-key")).toMatch(/^[0-9a-f-]{36}$/);

    const shares = await sql`select * from public.social_shares where content_id = ${contentId}`;
    expect(shares).toHaveLength(1);
    expect(shares[0]).toMatchObject({
      id: first.id,
      platform: "x",
      session_id: client.sessionId,
      utm_source: "newsletter",
    });
    const events = await sql`
      select event_name from public.analytics_events where content_id = ${contentId} and session_id = ${client.sessionId}`;
    expect(events.map((row) => row.event_name)).toEqual(["share"]);

    const repeat = await client.trackShare(share);
    expect(repeat).toMatchObject({ id: first.id, counted: false });
    expect(await sql`select id from public.social_shares where content_id = ${contentId}`).toHaveLength(1);
    await client.close();
  });

  it("retries a share whose answer was lost with the same Idempotency-Key: stored once, answered as counted", async () => {
    const { client, calls } = tracker({}, async (call, real) => {
      const response = await real();
      // The function stored the share; its answer never reaches the page.
      if (calls.indexOf(call) === 0) throw new TypeError("network connection lost");
      return response;
    });
    const contentId = `post-${randomUUID()}`;

    const share = await client.trackShare({
      url: page(`blog/${contentId}`),
      content_type: "blog_post",
      content_id: contentId,
      platform: "linkedin",
    });

    expect(calls).toHaveLength(2);
    expect(calls[1].headers.get("idempotency-key")).toBe(calls[0].headers.get("idempotency-key"));
    expect(share.counted).toBe(true);
    const rows = await sql`select id from public.social_shares where content_id = ${contentId}`;
    expect(rows.map((row) => row.id)).toEqual([share.id]);
    const events =
      await sql`select 1 from public.analytics_events where event_name = 'share' and content_id = ${contentId}`;
    expect(events).toHaveLength(1);
    await client.close();
  });
});

describe("events", () => {
  it("sends queued events in batches of batchSize, one request each, stored under normalized names", async () => {
    const { client, calls, errors } = tracker({ batchSize: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(client.track("Page View", { url: page(`p/${i}`), properties: { i } }));
    for (let i = 0; i < 5; i++) {
      ids.push(client.track("Add To Cart", { content_type: "product", content_id: `sku-${i}` }));
    }

    const totals = await client.flush();

    expect(totals).toEqual({ accepted: 25, duplicates: 0, rejected: 0, pending: 0 });
    expect(errors).toEqual([]);
    expect(calls.map((call) => call.fn)).toEqual(["analytics-service", "analytics-service", "analytics-service"]);
    expect(calls.map((call) => (call.body?.events as unknown[]).length)).toEqual([10, 10, 5]);
    expect(calls.every((call) => call.body?.session_id === client.sessionId)).toBe(true);
    const rows = await storedEvents(client.sessionId);
    expect(rows.map((row) => row.client_event_id).sort()).toEqual([...ids].sort());
    expect(rows.filter((row) => row.event_name === "page_view")).toHaveLength(20);
    expect(rows.filter((row) => row.event_name === "add_to_cart")).toHaveLength(5);
    expect(rows.every((row) => !row.custom)).toBe(true);
    await client.close();
  });

  it("retries a batch after a network error: every event stored exactly once", async () => {
    const { client, calls, errors } = tracker(
      {},
      (call, real) => (calls.indexOf(call) === 0 ? networkError() : real()),
    );
    const ids = [client.track("view_item", { content_type: "product", content_id: "sku-1" }), client.track("search")];

    const totals = await client.flush();

    expect(calls).toHaveLength(2);
    expect(totals).toEqual({ accepted: 2, duplicates: 0, rejected: 0, pending: 0 });
    expect(errors).toEqual([]);
    expect((await storedEvents(client.sessionId)).map((row) => row.client_event_id).sort()).toEqual(ids.sort());
  });

  it("resends a batch whose answer was a 503 after it was stored: the repeats count as duplicates", async () => {
    const { client, calls } = tracker({}, async (call, real) => {
      const response = await real();
      if (calls.indexOf(call) > 0) return response;
      return new Response(JSON.stringify({ error: { code: "service_unavailable" } }), {
        status: 503,
        headers: { "content-type": "application/json" },
      });
    });
    const ids = [client.track("page_view", { url: page() }), client.track("click"), client.track("scroll")];

    const totals = await client.flush();

    expect(calls).toHaveLength(2);
    expect(calls[1].body).toEqual(calls[0].body);
    expect(totals).toEqual({ accepted: 0, duplicates: 3, rejected: 0, pending: 0 });
    expect((await storedEvents(client.sessionId)).map((row) => row.client_event_id).sort()).toEqual(ids.sort());
  });

  it("waits what Retry-After says on a 429 before retrying", async () => {
    const { client, calls } = tracker({ retryBaseMs: 1 }, (call, real) =>
      calls.indexOf(call) === 0
        ? Promise.resolve(
          new Response(JSON.stringify({ error: { code: "rate_limited" } }), {
            status: 429,
            headers: { "content-type": "application/json", "retry-after": "1" },
          }),
        )
        : real());
    client.track("sign_up");

    const totals = await client.flush();

    expect(totals.accepted).toBe(1);
    expect(calls).toHaveLength(2);
    // The backoff alone would have been a millisecond or two.
    expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(950);
  });

  it("keeps a batch queued when failures outlast the retries, and sends it with the next flush", async () => {
    let down = true;
    const { client, calls, errors } = tracker({ maxRetries: 2 }, (_call, real) => (down ? networkError() : real()));
    const ids = [client.track("login"), client.track("logout")];

    const failed = await client.flush();

    expect(calls).toHaveLength(3);
    expect(failed).toEqual({ accepted: 0, duplicates: 0, rejected: 0, pending: 2 });
    expect(errors.map((error) => [error.kind, error.details.eventIds])).toEqual([["unavailable", ids]]);
    expect(await storedEvents(client.sessionId)).toEqual([]);

    down = false;
    expect(await client.flush()).toEqual({ accepted: 2, duplicates: 0, rejected: 0, pending: 0 });
    expect(calls).toHaveLength(4);
  });

  it("does not retry a batch the function refuses with a 4xx, and drops it", async () => {
    const { client, calls, errors } = tracker({}, () =>
      Promise.resolve(
        new Response(JSON.stringify({ error: { code: "invalid_body", message: "bad envelope" } }), {
          status: 400,
          headers: { "content-type": "application/json" },
        }),
      ));
    const id = client.track("form_submit");

    expect(await client.flush()).toEqual({ accepted: 0, duplicates: 0, rejected: 0, pending: 0 });
    expect(calls).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ kind: "refused", details: { status: 400, eventIds: [id] } });
    expect(errors[0].details.body).toMatchObject({ error: { code: "invalid_body" } });
  });

  it("refuses invalid events and shares locally and sends nothing", async () => {
    const { client, calls } = tracker();
    const invalid = (fn: () => unknown) => expect(fn).toThrow(expect.objectContaining({ kind: "invalid" }));
    invalid(() => client.track(""));
    invalid(() => client.track("1st place"));
    invalid(() => client.track("view_item", { content_type: "product" }));
    invalid(() => client.track("page_view", { url: "/relative/path" }));
    invalid(() => client.track("click", { id: "not-a-uuid" }));
    invalid(() => client.track("click", { properties: { nested: { a: 1 } as never } }));
    invalid(() => client.track("click", { extra: true } as never));
    expect(() => client.track("page_view", { url: "ftp://shop.example/x" })).toThrow(
      /url: Send an absolute http\(s\) URL/,
    );
    await expect(
      client.trackShare({ url: page(), content_type: "product", content_id: "sku-1", platform: "myspace" }),
    ).rejects.toMatchObject({ kind: "invalid" });

    expect(await client.flush()).toEqual({ accepted: 0, duplicates: 0, rejected: 0, pending: 0 });
    expect(calls).toEqual([]);
    expect(await storedEvents(client.sessionId)).toEqual([]);
  });
});

describe("metrics", () => {
  it("reports the client's events through GET metrics/events", async () => {
    const { client } = tracker();
    const name = `client_test_${hex(6)}`;
    for (let i = 0; i < 3; i++) client.track(name, { properties: { step: i } });
    expect(await client.close()).toMatchObject({ accepted: 3 });

    const from = new Date(Date.now() - 60 * 60 * 1000).toISOString();
    const to = new Date(Date.now() + 60 * 1000).toISOString();
    const query = new URLSearchParams({ from, to, interval: "hour", events: name });
    const response = await fetch(`${functionUrl("analytics-service")}/metrics/events?${query}`, {
      headers: { authorization: `Bearer ${stack.SUPABASE_SERVICE_ROLE_KEY}` },
    });
    const body = await response.json();

    expect(response.status, JSON.stringify(body)).toBe(200);
    const buckets = (body.buckets as { event: string; count: number; unique_sessions: number }[])
      .filter((bucket) => bucket.event === name);
    expect(buckets.reduce((sum, bucket) => sum + bucket.count, 0)).toBe(3);
    // One session, though an hour boundary may split the three events over two buckets.
    expect(buckets.every((bucket) => bucket.unique_sessions === 1)).toBe(true);
  });
});
