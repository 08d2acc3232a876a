import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { createBrowserAuthenticator } from "../../supabase/functions/_shared/http/browser-auth.ts";
import { originMatcher, withCors } from "../../supabase/functions/_shared/http/cors.ts";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { createIpHasher } from "../../supabase/functions/_shared/ip-hash.ts";
import { createJwtVerifier } from "../../supabase/functions/_shared/http/jwt-verifier.ts";
import { createLogger } from "../../supabase/functions/_shared/log.ts";
import { startJwksIssuer } from "../helpers/jwks.ts";

const SECRET = "unit-test-jwt-secret-0123456789";

function token(claims: Record<string, unknown>, secret = SECRET, expires = "1h") {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(new TextEncoder().encode(secret));
}

const bearer = async (claims: Record<string, unknown>, secret?: string) =>
  new Request("https://x.supabase.co/functions/v1/f", { headers: { authorization: `Bearer ${await token(claims, secret)}` } });

describe("originMatcher", () => {
  it.each([
    [["https://shop.example"], "https://shop.example", true],
    [["https://shop.example"], "https://SHOP.example", true],
    [["https://shop.example"], "https://shop.example:8443", false],
    [["https://*.shop.example"], "https://a.b.shop.example", true],
    [["https://*.shop.example"], "https://shop.example", false],
    [["https://*.shop.example"], "https://evilshop.example", false],
    [["https://*.shop.example"], "https://x.shop.example.evil.io", false],
    [["http://localhost:*"], "http://localhost:5173", true],
    [["http://localhost:*"], "http://localhost", true],
    [["http://localhost:*"], "http://localhost.evil.io:80", false],
    [["http://localhost:*"], "https://localhost:5173", false],
    [["*"], "https://anything.example", true],
    [[], "https://shop.example", false],
  ])("%j allows %s: %s", (patterns, origin, allowed) => {
    expect(originMatcher(patterns)(origin)).toBe(allowed);
  });

  it("treats dots in a pattern literally", () => {
    expect(originMatcher(["https://shop.example"])("https://shopXexample")).toBe(false);
  });
});

describe("withCors", () => {
  const handler = withCors(
    { allowedOrigins: ["https://shop.example"], methods: ["POST"] },
    () => Promise.resolve(new Response("{}", { status: 201 })),
    { fn: "f", logger: createLogger({}, { sink: () => {} }) },
  );

  it("passes requests without an Origin through without CORS headers", async () => {
    const res = await handler(new Request("https://f.example/", { method: "POST" }));
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("never answers a wildcard, so credentials-bearing pages get their own origin back", async () => {
    const res = await handler(new Request("https://f.example/", { method: "POST", headers: { origin: "https://shop.example" } }));
    expect(res.headers.get("access-control-allow-origin")).toBe("https://shop.example");
  });
});

describe("createBrowserAuthenticator", () => {
  const verify = createBrowserAuthenticator({ secret: SECRET });
  const decodeOnly = createBrowserAuthenticator({});
  const userId = "6f1c2c1e-8a3b-4c55-9d0e-1f2a3b4c5d6e";

  it("reads the anon key as anonymous and a session token as its user", async () => {
    expect(await verify(await bearer({ role: "anon" }))).toEqual({ role: "anon", userId: null });
    expect(await verify(await bearer({ role: "authenticated", sub: userId.toUpperCase() }))).toEqual({
      role: "authenticated",
      userId,
    });
  });

  it.each([
    ["a token signed with another secret", bearer({ role: "anon" }, "another-secret-0123456789abcdef")],
    ["an authenticated token without a user id", bearer({ role: "authenticated" })],
    ["an unknown role", bearer({ role: "supabase_admin" })],
    ["no token", Promise.resolve(new Request("https://x.supabase.co/"))],
  ])("refuses %s with 401", async (_label, request) => {
    await expect(verify(await request)).rejects.toMatchObject({ status: 401 });
  });

  it("refuses an expired token when it can verify", async () => {
    const expired = await token({ role: "anon" }, SECRET, "-1m");
    const req = new Request("https://x/", { headers: { authorization: `Bearer ${expired}` } });
    await expect(verify(req)).rejects.toMatchObject({ status: 401 });
  });

  it("without the secret, trusts the gateway's verification but still reads the claims", async () => {
    const forgedButValid = await bearer({ role: "authenticated", sub: userId }, "gateway-checked-secret-0123456789");
    expect(await decodeOnly(forgedButValid)).toEqual({ role: "authenticated", userId });
    const garbage = new Request("https://x/", { headers: { authorization: "Bearer not.a.jwt" } });
    await expect(decodeOnly(garbage)).rejects.toMatchObject({ status: 401 });
  });
});

describe("createIpHasher", () => {
  function fakeSql(salts: string[], failFirst = false) {
    const asked: string[] = [];
    let calls = 0;
    const sql = ((_strings: TemplateStringsArray, day: string) => {
      asked.push(day);
      calls++;
      if (failFirst && calls === 1) return Promise.reject(new Error("connection refused"));
      return Promise.resolve([{ salt: salts[asked.length - 1] }]);
    }) as unknown as Sql;
    return { sql, asked };
  }

  it("hashes under the day's salt, asks once a day, and changes every hash when the day does", async () => {
    let now = new Date("2026-11-22T23:59:00Z");
    const { sql, asked } = fakeSql(["salt-one", "salt-two"]);
    const hash = createIpHasher(sql, () => now);
    const first = await hash("203.0.113.9");
    expect(first).toMatch(/^[0-9a-f]{32}$/);
    expect(await hash("203.0.113.9")).toBe(first);
    expect(await hash("203.0.113.10")).not.toBe(first);
    now = new Date("2026-11-23T00:01:00Z");
    expect(await hash("203.0.113.9")).not.toBe(first);
    expect(asked).toEqual(["2026-11-22", "2026-11-23"]);
  });

  it("asks again after a failed lookup instead of failing for the rest of the day", async () => {
    const { sql, asked } = fakeSql(["unused", "salt"], true);
    const hash = createIpHasher(sql, () => new Date("2026-11-22T12:00:00Z"));
    await expect(hash("203.0.113.9")).rejects.toThrow("connection refused");
    await Promise.resolve();
    expect(await hash("203.0.113.9")).toMatch(/^[0-9a-f]{32}$/);
    expect(asked).toHaveLength(2);
  });
});

describe("createJwtVerifier", () => {
  it("checks HS256 tokens only against the secret and asymmetric ones only against the JWKS", async () => {
    const issuer = await startJwksIssuer();
    try {
      const both = createJwtVerifier({ secret: SECRET, jwksUrl: issuer.url })!;
      expect(await both(await token({ role: "anon" }))).toMatchObject({ role: "anon" });
      expect(await both(await issuer.sign({ role: "authenticated" }))).toMatchObject({ role: "authenticated" });

      const jwksOnly = createJwtVerifier({ jwksUrl: issuer.url })!;
      await expect(jwksOnly(await token({ role: "service_role" }))).rejects.toThrow(/No key/);
      const secretOnly = createJwtVerifier({ secret: SECRET })!;
      await expect(secretOnly(await issuer.sign({ role: "authenticated" }))).rejects.toThrow(/No key/);
      expect(createJwtVerifier({})).toBeNull();
    } finally {
      await issuer.close();
    }
  });
});
