import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".map": "application/json",
};

/**
 * Serves a built dashboard from `dir` on 127.0.0.1:`port`, and proxies `/functions/v1/*` to
 * the gateway, so the page and the API share an origin locally and need no CORS.
 */
export async function serveDashboard(dir: string, port: number, gatewayUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const gateway = new URL(gatewayUrl);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://dashboard").pathname;
    if (path.startsWith("/functions/v1/")) {
      const upstream = request({
        host: gateway.hostname,
        port: gateway.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, host: gateway.host },
      }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on("error", () => res.writeHead(502, { "content-type": "application/json" }).end('{"error":{"code":"gateway_unreachable","message":"The local gateway is not answering."}}'));
      req.pipe(upstream);
      return;
    }
    const file = normalize(join(dir, path === "/" ? "index.html" : path));
    if (!file.startsWith(normalize(dir)) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, {
      "content-type": TYPES[extname(file)] ?? "application/octet-stream",
      "cache-control": "no-store",
      // The dashboard holds an operator's key: no framing, no referrer, scripts from here only.
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self' https://*.supabase.co",
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
