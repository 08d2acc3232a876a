import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserRequest, extraInstance, randomSession } from "../helpers/browser.ts";
import { type JwksIssuer, startJwksIssuer } from "../helpers/jwks.ts";
import { testSql } from "../helpers/stack.ts";

// Projects on asymmetric signing keys sign user sessions with ES256 keys published as a JWKS,
// while the anon and service keys can stay HS256. These instances are called directly: the
// local gateway checks HS256 only, as a legacy project's does.
const sql = testSql();
let issuer: JwksIssuer;
// The issuer's URL is known only once it listens, and the instances read it when they start.
const jwks = { SUPABASE_JWKS_URL: "" };
beforeAll(async () => {
  issuer = await startJwksIssuer();
  jwks.SUPABASE_JWKS_URL = issuer.url;
});
afterAll(() => issuer.close());
const instances = {
  share: extraInstance("track-social-share", jwks),
  analytics: extraInstance("analytics-service", jwks),
  endpoints: extraInstance("webhook-endpoints", jwks),
};

describe("asymmetric signing keys", () => {
  it("takes the user id from an ES256 session token, and still accepts the HS256 anon key", async () => {
    const userId = randomUUID();
    const share = {
      url: `https://shop.example/p/${randomUUID()}`,
      content_type: "product",
      content_id: randomUUID(),
      platform: "x",
      session_id: randomSession(),
    };
    const token = await issuer.sign({ role: "authenticated", sub: userId });
    const signedIn = await browserRequest("track-social-share", share, { token, baseUrl: instances.share.baseUrl() });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(201);
    const [row] = await sql`select user_id from public.social_shares where id = ${signedIn.body.share.id}`;
    expect(row.user_id).toBe(userId);

    const anon = await browserRequest("track-social-share", { ...share, platform: "reddit" }, {
      baseUrl: instances.share.baseUrl(),
    });
    expect(anon.status).toBe(201);
  });

  it("refuses an ES256 token signed by a key the JWKS does not publish", async () => {
    const stranger = await startJwksIssuer();
    try {
      const token = await stranger.sign({ role: "authenticated", sub: randomUUID() });
      const res = await browserRequest("analytics-service", { session_id: randomSession(), events: [] }, {
        token,
        baseUrl: instances.analytics.baseUrl(),
      });
      expect(res.status).toBe(401);
    } finally {
      await stranger.close();
    }
  });

  it("lets an admin whose session is ES256-signed read metrics and manage webhooks", async () => {
    const admin = await issuer.sign({ role: "authenticated", app_metadata: { role: "admin", tenant_id: randomUUID() } });
    const now = Date.now();
    const metrics = await fetch(
      `${instances.analytics.baseUrl()}/metrics/events?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now).toISOString()}`,
      { headers: { authorization: `Bearer ${admin}` } },
    );
    expect(metrics.status).toBe(200);
    const endpoints = await fetch(`${instances.endpoints.baseUrl()}/`, { headers: { authorization: `Bearer ${admin}` } });
    expect(endpoints.status).toBe(200);

    const user = await issuer.sign({ role: "authenticated", sub: randomUUID() });
    const refused = await fetch(`${instances.endpoints.baseUrl()}/`, { headers: { authorization: `Bearer ${user}` } });
    expect(refused.status).toBe(403);
  });
});
