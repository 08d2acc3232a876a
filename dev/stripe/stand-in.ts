import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A local stand-in for Stripe's list endpoints, enough for `npm run stripe:backfill` and its
// tests: GET /v1/<resource> for every mirrored type, newest first as Stripe lists them, with
// `limit` (1-100, default 10), `starting_after`, `created[gte]` and, for subscriptions,
// Stripe's default of leaving canceled ones out unless `status=all`. Answers are Stripe's
// list envelope `{object: "list", data, has_more, url}`. A request without
// `Authorization: Bearer sk_test_...` (or rk_test_) gets Stripe's 401; injected failures
// answer the next N requests with a status and Stripe's error JSON (429: a rate limit).

/** The list endpoints served, by path segment. */
export const STAND_IN_RESOURCES = [
  "customers", "products", "prices", "subscriptions", "invoices", "charges", "refunds", "disputes", "payment_intents",
] as const;

/** A path segment of {@link STAND_IN_RESOURCES}. */
export type StandInResource = (typeof STAND_IN_RESOURCES)[number];

/** A Stripe object as seeded: at least an id and its `created` second. */
export type StandInObject = { id: string; created: number } & Record<string, unknown>;

/** Requests to fail: the next `count` list requests (after `after` more succeed) answer `status`. */
export interface StandInFailure {
  status: number;
  count: number;
  after?: number;
}

/** A running stand-in. */
export interface StripeStandIn {
  /** For STRIPE_API_BASE, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Adds objects of a resource; they are listed newest `created` first (ties: last seeded first). */
  seed(resource: StandInResource, objects: StandInObject[]): void;
  injectFailures(failure: StandInFailure): void;
  /** Drops pending injected failures: the next requests succeed. */
  clearFailures(): void;
  /** The ids each successful list answer carried, in order, per resource. */
  served(resource: StandInResource): string[];
  /** Every request's status, in order. */
  statuses(): number[];
  /** Forgets objects, served ids, statuses and pending failures. */
  reset(): void;
  close(): Promise<void>;
}

/** Starts a stand-in on 127.0.0.1 (`port` 0: any free port). */
export async function startStripeStandIn(options: { port?: number } = {}): Promise<StripeStandIn> {
  let objects = new Map<StandInResource, StandInObject[]>();
  let served = new Map<StandInResource, string[]>();
  let statuses: number[] = [];
  let failure: Required<StandInFailure> | null = null;

  const answer = (res: ServerResponse, status: number, body: unknown) => {
    statuses.push(status);
    res.writeHead(status, { "content-type": "application/json", "request-id": `req_${statuses.length}` });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, type: string, message: string, code?: string) =>
    answer(res, status, { error: { type, message, ...(code ? { code } : {}) } });

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const resource = url.pathname.replace(/^\/v1\//, "") as StandInResource;
    if (req.method !== "GET" || !STAND_IN_RESOURCES.includes(resource)) {
      return error(res, 404, "invalid_request_error", `Unrecognized request URL (${req.method}: ${url.pathname}).`);
    }
    if (!/^Bearer (sk|rk)_test_\S+$/.test(req.headers.authorization ?? "")) {
      return error(res, 401, "invalid_request_error", "Invalid API Key provided.");
    }
    if (failure && failure.after > 0) {
      failure.after -= 1;
    } else if (failure && failure.count > 0) {
      failure.count -= 1;
      const status = failure.status;
      if (failure.count === 0) failure = null;
      return status === 429
        ? error(res, 429, "invalid_request_error", "Request rate limit exceeded.", "rate_limit")
        : error(res, status, "api_error", "Injected failure.");
    }
    const params = url.searchParams;
    const limit = Number(params.get("limit") ?? 10);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      return error(res, 400, "invalid_request_error", "Invalid integer: limit must be between 1 and 100.", "parameter_invalid_integer");
    }
    const gte = params.has("created[gte]") ? Number(params.get("created[gte]")) : -Infinity;
    let listed = (objects.get(resource) ?? []).filter((o) => o.created >= gte);
    if (resource === "subscriptions" && params.get("status") !== "all") {
      listed = listed.filter((o) => o.status !== "canceled");
    }
    const after = params.get("starting_after");
    if (after !== null) {
      const at = listed.findIndex((o) => o.id === after);
      if (at < 0) return error(res, 400, "invalid_request_error", `No such object: '${after}'`, "resource_missing");
      listed = listed.slice(at + 1);
    }
    const data = listed.slice(0, limit);
    served.set(resource, [...(served.get(resource) ?? []), ...data.map((o) => o.id)]);
    answer(res, 200, { object: "list", data, has_more: listed.length > limit, url: `/v1/${resource}` });
  };

  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seed(resource, added) {
      // Newest first; of one second, the one seeded last first (a stable order, as Stripe's is).
      const all = [...added.toReversed(), ...(objects.get(resource) ?? [])];
      objects.set(resource, all.sort((a, b) => b.created - a.created));
    },
    injectFailures(spec) {
      failure = { after: 0, ...spec };
    },
    clearFailures() {
      failure = null;
    },
    served: (resource) => [...(served.get(resource) ?? [])],
    statuses: () => [...statuses],
    reset() {
      objects = new Map();
      served = new Map();
      statuses = [];
      failure = null;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
