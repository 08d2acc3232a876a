import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { browserRequest, extraInstance, randomIp, randomSession } from "../helpers/browser.ts";
import { functionUrl, signJwt, stack, testSql } from "../helpers/stack.ts";

const sql = testSql();

const share = (overrides: Record<string, unknown> = {}) => ({
  url: `https://shop.example/products/${randomUUID()}?utm_source=newsletter&utm_campaign=Winter&fbclid=abc&color=red`,
  content_type: "product",
  content_id: `p-${randomUUID()}`,
  share_url: "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fshop.example",
  session_id: randomSession(),
  ...overrides,
});

const post = (body: unknown, options: Parameters<typeof browserRequest>[2] = {}) =>
  browserRequest("track-social-share", body, options);

describe("track-social-share: CORS", () => {
  const preflight = (origin: string) =>
    fetch(functionUrl("track-social-share"), {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, x-client-info, apikey",
      },
    });

  it("answers a preflight from an allowed origin without a JWT, listing what a page may send", async () => {
    const res = await preflight("https://shop.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    for (const header of ["authorization", "content-type", "x-client-info", "apikey", "idempotency-key"]) {
      expect(res.headers.get("access-control-allow-headers")).toContain(header);
    }
    expect(res.headers.get("vary")).toContain("Origin");
  });

  it("allows subdomains through a wildcard pattern", async () => {
    const res = await preflight("https://m.shop.example");
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://m.shop.example");
  });

  it.each(["https://evil.example", "https://shop.example.evil.example", "http://shop.example"])(
    "refuses a preflight from %s with no CORS headers",
    async (origin) => {
      const res = await preflight(origin);
      expect(res.status).toBe(403);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect((await res.json()).error.code).toBe("origin_not_allowed");
    },
  );

  it("refuses a request from a disallowed origin before storing anything", async () => {
    const body = share();
    const res = await post(body, { headers: { origin: "https://evil.example" } });
    expect(res.status).toBe(403);
    const [{ count }] = await sql`select count(*)::int from public.social_shares where content_id = ${body.content_id}`;
    expect(count).toBe(0);
  });

  it("stamps CORS headers on errors too, so a page can read a 400's details", async () => {
    const res = await post({ ...share(), url: "not a url" });
    expect(res.status).toBe(400);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
    expect(res.headers.get("access-control-expose-headers")).toContain("retry-after");
  });
});

describe("track-social-share: storing a share", () => {
  it("stores the canonical URL, the UTM values and the detected platform, and emits a share event", async () => {
    const body = share();
    const res = await post(body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const path = new URL(body.url).pathname;
    expect(res.body.share).toMatchObject({ platform: "facebook", counted: true, url: `https://shop.example${path}?color=red` });
    const [row] = await sql`select * from public.social_shares where id = ${res.body.share.id}`;
    expect(row).toMatchObject({
      platform: "facebook",
      url: `https://shop.example${path}?color=red`,
      share_host: "www.facebook.com",
      utm_source: "newsletter",
      utm_campaign: "Winter",
      session_id: body.session_id,
      user_id: null,
    });
    const events = await sql`select * from public.analytics_events where content_id = ${body.content_id}`;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_name: "share", platform: "facebook", utm_source: "newsletter" });
  });

  it.each([
    [{ platform: "Copy-Link", share_url: undefined }, "copy_link"],
    [{ platform: "navigator.share", share_url: undefined }, "native"],
    [{ platform: "Twitter" }, "x"],
    [{ share_url: "https://x.com/intent/post?text=hi" }, "x"],
    [{ share_url: "https://api.whatsapp.com/send?text=hi" }, "whatsapp"],
    [{ share_url: "mailto:?subject=Look&body=https://shop.example" }, "email"],
    [{ share_url: undefined, referrer: "https://t.co/abc" }, "x"],
    [{ share_url: undefined }, "other"],
  ])("detects the platform of %j as %s", async (overrides, platform) => {
    const res = await post(share(overrides));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.share.platform).toBe(platform);
  });

  it("takes the user id from a signed-in user's token, never from the body", async () => {
    const userId = randomUUID();
    const token = await signJwt({ role: "authenticated", sub: userId });
    const res = await post(share(), { token });
    expect(res.status).toBe(201);
    const [row] = await sql`select user_id from public.social_shares where id = ${res.body.share.id}`;
    expect(row.user_id).toBe(userId);

    const forged = await post({ ...share(), user_id: randomUUID() });
    expect(forged.status).toBe(400);
    expect(forged.body.error.details[0].message).toMatch(/unrecognized/i);
  });

  it("counts an identical share once within the window, and a share to another platform again", async () => {
    const body = share();
    const first = await post(body);
    const again = await post(body);
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.share).toMatchObject({ id: first.body.share.id, counted: false });
    const other = await post({ ...body, share_url: undefined, platform: "reddit" });
    expect(other.status).toBe(201);
    const [{ shares }] = await sql`
      select count(*)::int as shares from public.social_shares where content_id = ${body.content_id}`;
    const [{ events }] = await sql`
      select count(*)::int as events from public.analytics_events where content_id = ${body.content_id}`;
    expect([shares, events]).toEqual([2, 2]);
  });

  it("stores one share when identical requests race", async () => {
    const body = share();
    const results = await Promise.all(Array.from({ length: 8 }, () => post(body)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const [{ count }] = await sql`select count(*)::int from public.social_shares where content_id = ${body.content_id}`;
    expect(count).toBe(1);
  });

  it("replays an Idempotency-Key and refuses it with another body", async () => {
    const key = randomUUID();
    const body = share();
    const first = await post(body, { headers: { "idempotency-key": key } });
    const replay = await post(body, { headers: { "idempotency-key": key } });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body.share.id).toBe(first.body.share.id);
    const reused = await post(share(), { headers: { "idempotency-key": key } });
    expect(reused.status).toBe(422);
  });
});

describe("track-social-share: bad input", () => {
  it.each([
    ["a missing url", { url: undefined }, "url"],
    ["a javascript: url", { url: "javascript:alert(1)" }, "url"],
    ["an unknown platform", { platform: "myspace" }, "platform"],
    ["a short session id", { session_id: "abc" }, "session_id"],
    ["a content type that is not a slug", { content_type: "Product Page!" }, "content_type"],
    ["an unknown field", { tracking_pixel: true }, ""],
    ["an over-long url", { url: `https://shop.example/${"a".repeat(2100)}` }, "url"],
  ])("answers 400 for %s, naming the field", async (_label, overrides, path) => {
    const res = await post(share(overrides));
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("invalid_request");
    expect(res.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
  });

  it("answers 400 for a body that is not JSON, 415 for another content type, 405 for GET", async () => {
    expect((await post("{not json")).status).toBe(400);
    expect((await post(share(), { headers: { "content-type": "text/plain" } })).status).toBe(415);
    expect((await post(undefined, { method: "GET" })).status).toBe(405);
  });

  it("answers 413 for a body over 16 KiB, far above the largest valid share", async () => {
    const largest = share({
      url: `https://shop.example/${"a".repeat(2000)}`,
      share_url: `https://twitter.com/intent/tweet?text=${"b".repeat(2000)}`,
      referrer: `https://news.example/${"c".repeat(2000)}`,
    });
    expect((await post(largest)).status).toBe(201);
    const res = await post({ ...share(), padding: "x".repeat(16 * 1024) });
    expect(res.status).toBe(413);
  });

  it("answers 401 without a JWT or with a forged one", async () => {
    const none = await fetch(functionUrl("track-social-share"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(share()),
    });
    expect(none.status).toBe(401);
    const forged = await post(share(), { token: `${stack.SUPABASE_ANON_KEY.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
  });
});

describe("track-social-share: rate limits", () => {
  it("limits one session to 20 shares a minute with a Retry-After, whatever the address", async () => {
    const session = randomSession();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await post(share({ session_id: session }))).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    const refused = await post(share({ session_id: session }));
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.body.error.code).toBe("rate_limited");
  });

  it("limits one address to 60 shares a minute across sessions", async () => {
    const ip = randomIp();
    const results = await Promise.all(Array.from({ length: 61 }, () => post(share(), { ip })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(60);
    expect(results.filter((r) => r.status === 429)).toHaveLength(1);
  });

  describe("across function processes", () => {
    const settings = { TRUSTED_PROXY_HOPS: "1", SHARE_SESSION_LIMIT_PER_MINUTE: "5" };
    const instances = [extraInstance("track-social-share", settings), extraInstance("track-social-share", settings)];

    it("holds one limit for a session whose requests alternate between two processes", async () => {
      const session = randomSession();
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        statuses.push((await post(share({ session_id: session }), { baseUrl: instances[i % 2].baseUrl() })).status);
      }
      expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429, 429]);
    });
  });
});

describe("track-social-share: privacy", () => {
  it("keeps no raw client address anywhere, even for refused requests", async () => {
    const ip = `198.51.100.${Math.floor(Math.random() * 200) + 20}`;
    const session = randomSession();
    for (let i = 0; i < 22; i++) await post(share({ session_id: session }), { ip });
    await post({ ...share(), url: "nope" }, { ip });
    await post(share(), { ip, token: "forged.token.value" });
    const tables = ["social_shares", "analytics_events", "rate_limit_buckets", "security_events", "idempotency_keys"];
    for (const table of tables) {
      const [{ count }] = await sql`
        select count(*)::int from ${sql("public")}.${sql(table)} t where t::text like ${"%" + ip + "%"}`;
      expect(count, table).toBe(0);
    }
    const [row] = await sql`select ip_hash from public.social_shares where session_id = ${session} limit 1`;
    expect(row.ip_hash).toMatch(/^[0-9a-f]{32}$/);
    const [{ refused }] = await sql`
      select count(*)::int as refused from public.security_events
      where function_name = 'track-social-share' and source = ${row.ip_hash}`;
    expect(refused).toBeGreaterThanOrEqual(2);
  });
});
