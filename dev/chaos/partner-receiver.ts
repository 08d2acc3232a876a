import { createServer, type Server } from "node:http";
import { verifyDelivery } from "../receiver/verify.ts";

/** One request a partner got: when, for which event, whether it was genuine, and the answer. */
export interface Arrival {
  path: string;
  /** performance.now() when the request's body had arrived. */
  at: number;
  webhookId: string;
  body: string;
  genuine: boolean;
  status: number;
}

/** Partners' receivers on 127.0.0.1, one path per endpoint, that can be taken down and brought back. */
export interface PartnerReceiver {
  url(path: string): string;
  /** The endpoint's secret, so each delivery is verified as the README tells partners to. */
  trust(path: string, secret: string): void;
  /** Down: every request is answered 503, as a partner's load balancer with no backend does. */
  setDown(down: boolean): void;
  arrivals(): Arrival[];
  close(): Promise<void>;
}

/** Starts the receivers; each answer waits `answerDelayMs`, so a worker can die with requests in flight. */
export async function startPartnerReceiver(answerDelayMs = 0): Promise<PartnerReceiver> {
  const arrivals: Arrival[] = [];
  const secrets = new Map<string, string>();
  let down = false;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://receiver").pathname;
      const body = Buffer.concat(chunks).toString();
      let genuine = false;
      try {
        verifyDelivery(secrets.get(path) ?? "", body, req.headers);
        genuine = true;
      } catch {
        genuine = false;
      }
      const status = down ? 503 : genuine ? 200 : 401;
      arrivals.push({ path, at: performance.now(), webhookId: String(req.headers["webhook-id"] ?? ""), body, genuine, status });
      setTimeout(() => res.writeHead(status).end(), answerDelayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    trust: (path, secret) => void secrets.set(path, secret),
    setDown: (value) => void (down = value),
    arrivals: () => [...arrivals],
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The most requests that reached one path within any window, beyond what a token bucket of
 * `burst` refilled at `perSecond` allows in that window (0 or less: the limit held). Arrival
 * times include up to `slackSeconds` of network and scheduling delay between the claim that
 * spent a token and the request's arrival, so each window is widened by that much.
 */
export function rateExcess(times: number[], perSecond: number, burst: number, slackSeconds: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let worst = -Infinity;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const allowed = burst + perSecond * ((sorted[j] - sorted[i]) / 1000 + slackSeconds);
      worst = Math.max(worst, j - i + 1 - allowed);
    }
  }
  return sorted.length === 0 ? 0 : Math.ceil(worst);
}
