import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { context, propagation } from "@opentelemetry/api";

/** What a pinned request returned: status, headers, and the start of the body. */
export interface PinnedAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** How long a request may take, and how much of the answer is read. */
export interface PinnedLimits {
  timeoutMs: number;
  bodyBytes: number;
}

// One keep-alive pool per scheme and process: a dispatcher run sends to the same partners
// again and again, and a new TLS handshake per delivery would cost more than the delivery.
const AGENTS = {
  "http:": new http.Agent({ keepAlive: true, maxSockets: 256 }),
  "https:": new https.Agent({ keepAlive: true, maxSockets: 256 }),
};

type LookupCallback = (
  error: Error | null,
  address: string | { address: string; family: number }[],
  family?: number,
) => void;

/** A resolver that answers only `addresses`, in either of node's callback forms (Deno asks with `all: true`). */
function pinnedLookup(addresses: string[]) {
  return (_hostname: string, options: { all?: boolean }, callback: LookupCallback) => {
    if (options?.all) callback(null, addresses.map((address) => ({ address, family: isIP(address) })));
    else callback(null, addresses[0], isIP(addresses[0]));
  };
}

/**
 * Sends `method` to `url` (with `body`, if any), connecting only to `addresses`: the ones the SSRF guard checked. The
 * hostname still names the request (Host header, TLS SNI and certificate verification), but
 * no second DNS lookup happens, so a name that answered a public address to the guard cannot
 * answer 127.0.0.1 to the connection (DNS rebinding). Redirects are not followed, the whole
 * exchange has `timeoutMs`, and only the first `bodyBytes` of the answer are read. The active
 * trace context travels as `traceparent` when tracing is on.
 */
export function pinnedRequest(
  method: "GET" | "POST",
  url: URL,
  addresses: string[],
  headers: Record<string, string>,
  body: string | null,
  { timeoutMs, bodyBytes }: PinnedLimits,
): Promise<PinnedAnswer> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const module = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const request = module.request(url, {
      method,
      agent: AGENTS[url.protocol as "http:" | "https:"],
      lookup: pinnedLookup(addresses) as never,
      headers: {
        ...carrier,
        ...headers,
        ...(body === null ? {} : { "content-length": String(Buffer.byteLength(body)) }),
      },
    }, (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).subarray(0, bodyBytes).toString("utf8"),
        });
      };
      response.on("data", (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        // Enough read: the rest is not wanted, and a hostile receiver must not make us buffer.
        if (size >= bodyBytes) {
          response.destroy();
          finish();
        }
      });
      response.on("end", finish);
      response.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    // Rejected here, not through the request's error event, which a destroyed socket does not
    // always emit (seen under Deno's node:http with a receiver that never answers).
    const timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms`));
      request.destroy();
    }, timeoutMs);
    request.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    request.end(body ?? undefined);
  });
}

/** {@link pinnedRequest} with POST: what the dispatcher delivers with. */
export const pinnedPost = (
  url: URL,
  addresses: string[],
  headers: Record<string, string>,
  body: string,
  limits: PinnedLimits,
) => pinnedRequest("POST", url, addresses, headers, body, limits);
