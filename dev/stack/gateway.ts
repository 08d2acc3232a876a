import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import { jwtVerify } from "jose";

/** Where the gateway sends `/functions/v1/<name>`, and whether that function needs a JWT. */
export interface GatewayRoute {
  port: number;
  verifyJwt: boolean;
}

function reply(res: ServerResponse, status: number, code: string, message: string) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ error: { code, message } }));
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
 * The body is streamed through untouched, so provider signatures still verify.
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
    if (!match || !route) return reply(res, 404, "function_not_found", "No function at this path.");
    if (route.verifyJwt && req.method !== "OPTIONS") {
      const problem = await jwtProblem(req, key);
      if (problem) return reply(res, 401, "unauthorized", problem);
    }
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
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) reply(res, 503, "function_unavailable", `Function ${match[1]} is not running.`);
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
