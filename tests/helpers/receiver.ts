import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";

/** One request a receiver got. */
export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers a path: a status with headers, or never (to test timeouts and crashes). */
export type Answer = { status: number; headers?: Record<string, string>; body?: string } | "hang";

/** A partner's webhook receiver on 127.0.0.1, scripted per path. */
export interface Receiver {
  url(path: string): string;
  received(path?: string): Received[];
  /** Sets how `path` answers from now on (default 200). */
  answer(path: string, answer: Answer): void;
  /** Answers every request held by "hang" with 200 and stops holding. */
  release(): void;
  close(): Promise<void>;
}

/** Starts a receiver; every request is recorded before it is answered. */
export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answers = new Map<string, Answer>();
  const held: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = new URL(req.url ?? "/", "http://receiver").pathname;
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString() });
      const answer = answers.get(path) ?? { status: 200 };
      if (answer === "hang") {
        held.push(res);
        return;
      }
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received: (path) => (path ? received.filter((r) => r.path === path) : [...received]),
    answer: (path, answer) => answers.set(path, answer),
    release() {
      for (const [path, answer] of answers) if (answer === "hang") answers.delete(path);
      for (const res of held.splice(0)) if (!res.destroyed) res.writeHead(200).end();
    },
    async close() {
      for (const res of held.splice(0)) res.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
