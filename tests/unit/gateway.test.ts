import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type GatewayRoute, startGateway } from "../../dev/stack/gateway.ts";
import { freePort } from "../../dev/stack/ports.ts";

const JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

let upstream: Server;
let gateway: Server;
let base: string;
const seen: Seen[] = [];
const routes = new Map<string, GatewayRoute>();

const key = (secret: string) => new TextEncoder().encode(secret);
const now = () => Math.floor(Date.now() / 1000);

function token(options: { secret?: string; exp?: number; alg?: string } = {}) {
  return new SignJWT({ role: "anon" })
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(options.exp ?? now() + 3600)
    .sign(key(options.secret ?? JWT_SECRET));
}

beforeAll(async () => {
  // The stand-in for a function: records what it was sent and answers 200.
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" });
      res.end(JSON.stringify({ upstream: true }));
    });
  });
  const upstreamPort = await freePort();
  await new Promise<void>((resolve) => upstream.listen(upstreamPort, "127.0.0.1", resolve));

  routes.set("secured", { port: upstreamPort, verifyJwt: true });
  routes.set("public-hook", { port: upstreamPort, verifyJwt: false });
  // Nothing listens on this port: the function is not running.
  routes.set("stopped", { port: await freePort(), verifyJwt: false });

  const gatewayPort = await freePort();
  gateway = await startGateway(gatewayPort, () => routes, JWT_SECRET);
  base = `http://127.0.0.1:${gatewayPort}/functions/v1`;
});

afterAll(async () => {
  for (const server of [gateway, upstream]) {
    if (!server) continue;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

beforeEach(() => {
  seen.length = 0;
});

async function send(path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

describe("gateway: verify_jwt = true", () => {
  it("refuses a request without Authorization with 401 and does not reach the function", async () => {
    const res = await send("/secured", { method: "POST", body: "{}" });
    expect(res.status).toBe(401);
    expect(res.json().error.code).toBe("unauthorized");
    expect(seen).toHaveLength(0);
  });

  it("refuses a non-Bearer Authorization header", async () => {
    const res = await send("/secured", { headers: { authorization: `Basic ${btoa("u:p")}` } });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it("refuses a JWT signed with another secret", async () => {
    const forged = await token({ secret: "another-secret-that-is-also-at-least-32-chars" });
    const res = await send("/secured", { headers: { authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it("refuses an expired JWT", async () => {
    const expired = await token({ exp: now() - 3600 });
    const res = await send("/secured", { headers: { authorization: `Bearer ${expired}` } });
    expect(res.status).toBe(401);
    expect(seen).toHaveLength(0);
  });

  it("refuses a JWT signed with the right secret but another algorithm than HS256", async () => {
    const hs512 = await token({ alg: "HS512" });
    const res = await send("/secured", { headers: { authorization: `Bearer ${hs512}` } });
    expect(res.status).toBe(401);
  });

  it("refuses garbage in place of a JWT", async () => {
    const res = await send("/secured", { headers: { authorization: "Bearer not.a.jwt" } });
    expect(res.status).toBe(401);
  });

  it("proxies a valid HS256 JWT with path, query, method and the exact body bytes", async () => {
    // Not valid UTF-8 on purpose: a signature over the raw bytes must still verify upstream.
    const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x00, 0x0a, 0x7d]);
    const res = await send("/secured/rest/of/path?x=1&y=two", {
      method: "PATCH",
      headers: { authorization: `Bearer ${await token()}`, "content-type": "application/octet-stream" },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ upstream: true });
    expect(res.headers.get("x-upstream")).toBe("yes");
    expect(seen).toHaveLength(1);
    expect(seen[0].method).toBe("PATCH");
    expect(seen[0].url).toBe("/secured/rest/of/path?x=1&y=two");
    expect(seen[0].body.equals(body)).toBe(true);
    expect(seen[0].headers["content-type"]).toBe("application/octet-stream");
  });

  it("accepts the bearer scheme in any letter case", async () => {
    const res = await send("/secured", { headers: { authorization: `bearer ${await token()}` } });
    expect(res.status).toBe(200);
  });

  it("lets a CORS preflight (OPTIONS) through without a JWT", async () => {
    const res = await send("/secured", {
      method: "OPTIONS",
      headers: { origin: "https://shop.example.com", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(200);
    expect(seen.map((s) => s.method)).toEqual(["OPTIONS"]);
  });
});

describe("gateway: verify_jwt = false", () => {
  it("proxies without a JWT, keeping provider headers and the body", async () => {
    const payload = JSON.stringify({ id: "evt_1", amount: 4200 });
    const res = await send("/public-hook", {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": "t=1,v1=abc" },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(seen[0].url).toBe("/public-hook");
    expect(seen[0].headers["stripe-signature"]).toBe("t=1,v1=abc");
    expect(seen[0].body.toString("utf8")).toBe(payload);
  });
});

describe("gateway: routing and forwarding", () => {
  it.each(["/unknown", "/unknown/sub", ""])("answers 404 for a function that is not configured (%s)", async (path) => {
    const res = await send(path, { headers: { authorization: `Bearer ${await token()}` } });
    expect(res.status).toBe(404);
    expect(res.json().error.code).toBe("function_not_found");
    expect(seen).toHaveLength(0);
  });

  it("answers 404 outside /functions/v1", async () => {
    const res = await fetch(base.replace("/functions/v1", "/rest/v1/orders"));
    expect(res.status).toBe(404);
  });

  it("sets x-forwarded-for to the client address when the client sent none", async () => {
    await send("/public-hook");
    expect(seen[0].headers["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("appends the client address to an x-forwarded-for the client sent, as a proxy does", async () => {
    await send("/public-hook", { headers: { "x-forwarded-for": "203.0.113.9" } });
    expect(seen[0].headers["x-forwarded-for"]).toBe("203.0.113.9, 127.0.0.1");
  });

  it("answers 503 when the function is not running", async () => {
    const res = await send("/stopped", { method: "POST", body: "{}" });
    expect(res.status).toBe(503);
    expect(res.json().error.code).toBe("function_unavailable");
  });
});

describe("gateway: functions that cannot answer, and reloads", () => {
  it("answers 503 function_unavailable with the route's reason and a request id, without reaching the function", async () => {
    routes.set("broken", {
      port: routes.get("public-hook")!.port,
      verifyJwt: false,
      unavailable: "broken failed to start: SyntaxError: Unexpected token (broken/index.ts:3:7, exit code 1).",
    });
    const res = await send("/broken", { method: "POST", body: "{}", headers: { "x-request-id": "req-42" } });
    expect(res.status).toBe(503);
    expect(res.json()).toEqual({
      error: {
        code: "function_unavailable",
        message: "broken failed to start: SyntaxError: Unexpected token (broken/index.ts:3:7, exit code 1).",
      },
      requestId: "req-42",
    });
    expect(res.headers.get("x-request-id")).toBe("req-42");
    expect(seen).toHaveLength(0);
  });

  it("still checks the JWT first for a function that cannot answer", async () => {
    routes.set("broken-secured", { port: 0, verifyJwt: true, unavailable: "broken-secured exited." });
    const res = await send("/broken-secured");
    expect(res.status).toBe(401);
  });

  it("makes a request id for its own errors when the caller's is missing or unsafe", async () => {
    const res = await send("/unknown", { headers: { "x-request-id": "bad id with spaces" } });
    expect(res.json().requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get("x-request-id")).toBe(res.json().requestId);
  });

  it("counts the requests in flight on a route until each is answered, so a reload knows when the old process is idle", async () => {
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = createServer(async (_req, res) => {
      await held;
      res.end("{}");
    });
    const port = await freePort();
    await new Promise<void>((resolve) => slow.listen(port, "127.0.0.1", resolve));
    const route: GatewayRoute = { port, verifyJwt: false };
    routes.set("slow", route);
    try {
      const pending = [send("/slow"), send("/slow")];
      await expect.poll(() => route.inFlight).toBe(2);
      // A reload switches the route: requests already counted on the old one stay there.
      routes.set("slow", { port, verifyJwt: false });
      release();
      expect((await Promise.all(pending)).map((res) => res.status)).toEqual([200, 200]);
      await expect.poll(() => route.inFlight).toBe(0);
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});
