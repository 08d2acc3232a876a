import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedFunction, serveFunction } from "../../dev/stack/functions.ts";
import { browserRequest, randomSession } from "../helpers/browser.ts";
import { type JwksIssuer, startJwksIssuer } from "../helpers/jwks.ts";
import { stack, testSql } from "../helpers/stack.ts";

// Projects on asymmetric signing keys sign user sessions with ES256 keys published as a JWKS,
// while the anon and service keys can stay HS256. These instances are called directly: the
// local gateway checks HS256 only, as a legacy project's does.
const sql = testSql();
let issuer: JwksIssuer;
const served: Record<string, ServedFunction> = {};

beforeAll(async () => {
  issuer = await startJwksIssuer();
  const env = {
    ...stack,
    SUPABASE_DB_URL: stack.DATABASE_URL,
    LOG_LEVEL: "error",
    CORS_ALLOWED_ORIGINS: "https://shop.example",
    SUPABASE_JWKS_URL: issuer.url,
  } as Record<string, string>;
  for (const name of ["track-social-share", "analytics-service", "webhook-endpoints"]) {
    served[name] = await serveFunction(name, env, () => {});
  }
});

afterAll(async () => {
  await Promise.all(Object.values(served).map((fn) => fn.stop()));
  await issuer.close();
});

const baseUrl = (name: string) => `http://127.0.0.1:${served[name].port}/${name}`;

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
    const signedIn = await browserRequest("track-social-share", share, { token, baseUrl: baseUrl("track-social-share") });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(201);
    const [row] = await sql`select user_id from public.social_shares where id = ${signedIn.body.share.id}`;
    expect(row.user_id).toBe(userId);

    const anon = await browserRequest("track-social-share", { ...share, platform: "reddit" }, {
      baseUrl: baseUrl("track-social-share"),
    });
    expect(anon.status).toBe(201);
  });

  it("refuses an ES256 token signed by a key the JWKS does not publish", async () => {
    const stranger = await startJwksIssuer();
    try {
      const token = await stranger.sign({ role: "authenticated", sub: randomUUID() });
      const res = await browserRequest("analytics-service", { session_id: randomSession(), events: [] }, {
        token,
        baseUrl: baseUrl("analytics-service"),
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
      `${baseUrl("analytics-service")}/metrics/events?from=${new Date(now - 3_600_000).toISOString()}&to=${new Date(now).toISOString()}`,
      { headers: { authorization: `Bearer ${admin}` } },
    );
    expect(metrics.status).toBe(200);
    const endpoints = await fetch(`${baseUrl("webhook-endpoints")}/`, { headers: { authorization: `Bearer ${admin}` } });
    expect(endpoints.status).toBe(200);

    const user = await issuer.sign({ role: "authenticated", sub: randomUUID() });
    const refused = await fetch(`${baseUrl("webhook-endpoints")}/`, { headers: { authorization: `Bearer ${user}` } });
    expect(refused.status).toBe(403);
  });
});
