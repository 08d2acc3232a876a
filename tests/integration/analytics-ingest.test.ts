import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { browserRequest, extraInstance, randomIp, randomSession } from "../helpers/browser.ts";
import { signJwt, testSql } from "../helpers/stack.ts";

const sql = testSql();

const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";

const ingest = (body: unknown, options: Parameters<typeof browserRequest>[2] = {}) =>
  browserRequest("analytics-service", body, options);

const event = (overrides: Record<string, unknown> = {}) => ({ id: randomUUID(), name: "page_view", ...overrides });

const rowsOf = (ids: string[]) =>
  sql`select * from public.analytics_events where client_event_id = any(${ids}::uuid[]) order by occurred_at`;

describe("analytics-service ingest: what is stored", () => {
  it("normalizes names, URLs, UTM values and the user agent, and never stores the address", async () => {
    const session = randomSession();
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 20}`;
    const events = [
      event({ name: "Page View", url: "https://shop.example/p/1?utm_source=ads&gclid=x#top", referrer: "https://www.google.com/search?q=secret" }),
      event({ name: "addToCart", content_type: "product", content_id: "p-1", properties: { price: 12.5, currency: "EUR" } }),
      event({ name: "Wishlist Shared", utm: { campaign: "spring" } }),
    ];
    const res = await ingest({ session_id: session, events }, { ip, headers: { "user-agent": IPHONE } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ accepted: 3, duplicates: 0, rejected: 0, errors: [] });

    const rows = await rowsOf(events.map((e) => e.id));
    const byId = new Map(rows.map((row) => [row.client_event_id, row]));
    expect(byId.get(events[0].id)).toMatchObject({
      event_name: "page_view",
      custom: false,
      page_url: "https://shop.example/p/1",
      utm_source: "ads",
      referrer_host: "www.google.com",
      session_id: session,
      device: "mobile",
      browser: "Mobile Safari",
      os: "iOS",
    });
    expect(byId.get(events[1].id)).toMatchObject({
      event_name: "add_to_cart",
      content_type: "product",
      content_id: "p-1",
      properties: { price: 12.5, currency: "EUR" },
    });
    expect(byId.get(events[2].id)).toMatchObject({ event_name: "wishlist_shared", custom: true, utm_campaign: "spring" });
    for (const row of rows) expect(row.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(rows.map((row) => row.ip_hash)).size).toBe(1);
    const [{ count }] = await sql`
      select count(*)::int from public.analytics_events t where t::text like ${"%" + ip + "%"}`;
    expect(count).toBe(0);
  });

  it("takes the user id from a signed-in user's token", async () => {
    const userId = randomUUID();
    const e = event();
    const token = await signJwt({ role: "authenticated", sub: userId });
    expect((await ingest({ session_id: randomSession(), events: [e] }, { token })).status).toBe(200);
    const [row] = await rowsOf([e.id]);
    expect(row.user_id).toBe(userId);
  });

  it("clamps timestamps to 24 h of skew and keeps the ones within it", async () => {
    const now = Date.now();
    const hour = 60 * 60 * 1000;
    const events = [
      event({ timestamp: new Date(now - 10 * 24 * hour).toISOString() }),
      event({ timestamp: new Date(now + 3 * 24 * hour).toISOString() }),
      event({ timestamp: now - 2 * hour }),
      event({ timestamp: "2026-01-01T10:00:00+02:00" }),
    ];
    const res = await ingest({ session_id: randomSession(), events });
    expect(res.body.accepted).toBe(4);
    const at = new Map((await rowsOf(events.map((e) => e.id))).map((r) => [r.client_event_id, r.occurred_at.getTime()]));
    expect(Math.abs(at.get(events[0].id)! - (now - 24 * hour))).toBeLessThan(5000);
    expect(Math.abs(at.get(events[1].id)! - (now + 24 * hour))).toBeLessThan(5000);
    expect(at.get(events[2].id)).toBe(now - 2 * hour);
    expect(Math.abs(at.get(events[3].id)! - (now - 24 * hour))).toBeLessThan(5000);
  });
});

describe("analytics-service ingest: partial acceptance and duplicates", () => {
  it("accepts the valid events of a batch and reports each rejected one with its index and paths", async () => {
    const good = [event(), event({ name: "purchase" })];
    const res = await ingest({
      session_id: randomSession(),
      events: [
        good[0],
        { id: "not-a-uuid", name: "page_view" },
        event({ name: "9lives", url: "ftp://shop.example/file" }),
        event({ timestamp: "yesterday" }),
        event({ content_type: "product" }),
        event({ properties: { nested: { deep: true } } }),
        event({ properties: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }),
        event({ properties: { note: "nul\u0000byte" } }),
        event({ utm: { source: "nul\u0000" } }),
        event({ unexpected: 1 }),
        "not an object",
        good[1],
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 2, duplicates: 0, rejected: 10 });
    expect(res.body.errors.map((e: { index: number }) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(res.body.errors[0]).toMatchObject({ id: "not-a-uuid", details: [{ path: "id" }] });
    expect(res.body.errors[3].details[0].path).toBe("content_id");
    expect(await rowsOf(good.map((e) => e.id))).toHaveLength(2);
  });

  it("drops duplicates by client event id, within a batch and across batches", async () => {
    const session = randomSession();
    const a = event();
    const b = event();
    const first = await ingest({ session_id: session, events: [a, a, b] });
    expect(first.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 0 });
    const retry = await ingest({ session_id: session, events: [a, b] });
    expect(retry.body).toMatchObject({ accepted: 0, duplicates: 2, rejected: 0 });
    expect(await rowsOf([a.id, b.id])).toHaveLength(2);
  });

  it("needs a session id on the event or the batch", async () => {
    const session = randomSession();
    const res = await ingest({ events: [event(), event({ session_id: session })] });
    expect(res.body).toMatchObject({ accepted: 1, rejected: 1, errors: [{ index: 0, details: [{ path: "session_id" }] }] });
  });

  it("refuses the whole request for a bad envelope: no events, more than 500, over 1 MiB, not JSON", async () => {
    const session = randomSession();
    expect((await ingest({ session_id: session, events: [] })).status).toBe(400);
    const many = await ingest({ session_id: session, events: Array.from({ length: 501 }, () => event()) });
    expect(many.status).toBe(400);
    expect(many.body.error.details[0].path).toBe("events");
    const big = await ingest({
      session_id: session,
      events: Array.from({ length: 400 }, () => event({ properties: { blob: "x".repeat(999) }, url: `https://shop.example/${"y".repeat(2000)}` })),
    });
    expect(big.status).toBe(413);
    expect((await ingest("[oops")).status).toBe(400);
    expect((await ingest({ session_id: session, events: [event()] }, { headers: { "content-type": "text/plain" } })).status).toBe(415);
  });

  it("counts every event once when batches of one hour and event race", async () => {
    const name = `race_${randomUUID().slice(0, 8)}`;
    const batches = Array.from({ length: 16 }, () => ({
      session_id: randomSession(),
      events: Array.from({ length: 25 }, () => event({ name })),
    }));
    const results = await Promise.all(batches.map((batch) => ingest(batch)));
    expect(results.map((r) => r.status)).toEqual(batches.map(() => 200));
    const [hour] = await sql`
      select sum(events)::int as events, sum(sessions)::int as sessions from public.analytics_rollups
      where granularity = 'hour' and dimension = '' and event_name = ${name}`;
    expect(hour).toEqual({ events: 400, sessions: 16 });
  });
});

describe("analytics-service ingest: rate limit per address", () => {
  const instance = extraInstance("analytics-service", { ANALYTICS_IP_LIMIT_PER_MINUTE: "3" });

  it("answers 429 with Retry-After once an address has sent its batches for the minute", async () => {
    const ip = randomIp();
    const baseUrl = instance.baseUrl();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 4; i++) {
      const res = await ingest({ session_id: randomSession(), events: [event()] }, { ip, baseUrl });
      statuses.push(res.status);
      retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  });
});

describe("analytics-service ingest: custom event allowlist", () => {
  const instance = extraInstance("analytics-service", { ANALYTICS_CUSTOM_EVENTS: "Wishlist Shared, quiz-done" });

  it("accepts standard names and the listed custom ones, and rejects other custom names", async () => {
    const events = [event(), event({ name: "wishlistShared" }), event({ name: "quiz_done" }), event({ name: "spam_123" })];
    const res = await ingest({ session_id: randomSession(), events }, { baseUrl: instance.baseUrl() });
    expect(res.body).toMatchObject({ accepted: 3, rejected: 1, errors: [{ index: 3, details: [{ path: "name" }] }] });
  });
});

describe("prune_tracking_state", () => {
  it("drops session sets of buckets that can no longer change and rate-limit buckets idle for a day", async () => {
    const name = `prune_${randomUUID().slice(0, 8)}`;
    await sql`
      insert into public.analytics_rollup_sessions (granularity, bucket, event_name, dimension, session_id) values
        ('day', date_trunc('day', now() - interval '3 days'), ${name}, '', 'old'),
        ('day', date_trunc('day', now() - interval '1 day'), ${name}, '', 'yesterday'),
        ('hour', date_trunc('hour', now()), ${name}, '', 'current')`;
    await sql`
      insert into public.rate_limit_buckets (key, tokens, updated_at) values
        (${name + ":idle"}, 1, now() - interval '25 hours'), (${name + ":busy"}, 1, now())`;
    await sql`select public.prune_tracking_state()`;
    const sessions = await sql`
      select session_id from public.analytics_rollup_sessions where event_name = ${name} order by session_id`;
    expect(sessions.map((row) => row.session_id)).toEqual(["current", "yesterday"]);
    const buckets = await sql`select key from public.rate_limit_buckets where key like ${name + ":%"}`;
    expect(buckets.map((row) => row.key)).toEqual([`${name}:busy`]);
  });
});
