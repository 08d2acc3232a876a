import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { jwtVerify } from "jose";
import { requestIdFrom } from "../../supabase/functions/_shared/http/request-id.ts";

/** Where the gateway sends `/functions/v1/<name>`, and whether that function needs a JWT. */
export interface GatewayRoute {
  port: number;
  verifyJwt: boolean;
  /** Why the function cannot answer now (a broken edit, a crash): requests get 503 with this. */
  unavailable?: string;
  /** Requests sent to `port` and not yet answered, kept by the gateway: a reload waits for 0. */
  inFlight?: number;
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string) {
  const given = req.headers["x-request-id"];
  // The functions' own rule, so the gateway's errors carry the id a function would have used.
  const requestId = requestIdFrom(typeof given === "string" ? given : undefined);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-request-id": requestId });
  res.end(JSON.stringify({ error: { code, message }, requestId }));
}

async function jwtProblem(req: IncomingMessage, key: Uint8Array): Promise<string | null> {
  const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? "");
  if (!match) return "Missing authorization header";
  try {
    await jwtVerify(match[1], key, { algorithms: ["HS256"] });
    return null;
  } catch {
    return "Invalid JWT";
  }
}

/**
 * The local stand-in for Supabase's edge gateway: routes `/functions/v1/<name>/...` to the
 * function's Deno process and, where config.toml says `verify_jwt = true`, refuses requests
 * without a JWT signed by the project's secret (CORS preflights pass, as on Supabase).
 * The body is streamed through untouched, so provider signatures still verify. A function
 * that cannot answer gets 503 `function_unavailable`, with the reason when one is known.
 */
export function startGateway(
  port: number,
  routes: () => Map<string, GatewayRoute>,
  jwtSecret: string,
): Promise<Server> {
  const key = new TextEncoder().encode(jwtSecret);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://gateway");
    const match = /^\/functions\/v1\/([a-z0-9_-]+)(\/.*)?$/i.exec(url.pathname);
    const route = match ? routes().get(match[1]) : undefined;
    if (!match || !route) return reply(req, res, 404, "function_not_found", "No function at this path.");
    // Counted from the moment the route is chosen: a reload may switch it during the JWT check.
    route.inFlight = (route.inFlight ?? 0) + 1;
    res.once("close", () => {
      route.inFlight = (route.inFlight ?? 1) - 1;
    });
    if (route.verifyJwt && req.method !== "OPTIONS") {
      const problem = await jwtProblem(req, key);
      if (problem) return reply(req, res, 401, "unauthorized", problem);
    }
    if (route.unavailable) return reply(req, res, 503, "function_unavailable", route.unavailable);
    const headers = { ...req.headers };
    // Like a real proxy, append the address the request came from; entries before it were
    // written by the client (or by proxies further out) and functions trust them only as far
    // as TRUSTED_PROXY_HOPS says.
    const peer = req.socket.remoteAddress ?? "127.0.0.1";
    headers["x-forwarded-for"] = req.headers["x-forwarded-for"] ? `${req.headers["x-forwarded-for"]}, ${peer}` : peer;
    const upstream = request(
      {
        host: "127.0.0.1",
        port: route.port,
        method: req.method,
        path: `/${match[1]}${match[2] ?? ""}${url.search}`,
        headers,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
        // A function that dies mid-answer must not leave its caller waiting for the rest.
        upstreamRes.once("close", () => upstreamRes.complete || res.destroy());
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) reply(req, res, 503, "function_unavailable", `Function ${match[1]} is not running.`);
      else res.destroy();
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
