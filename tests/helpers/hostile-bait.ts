import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** A local server that counts whatever reaches it: where a forged URL points, to prove nothing fetched it. */
export interface Bait {
  url: string;
  /** The paths requested so far. */
  hits: string[];
  close(): Promise<void>;
}

/** Starts a {@link Bait} on a free loopback port; it answers every request with a 404. */
export async function startBait(): Promise<Bait> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
