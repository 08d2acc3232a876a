import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pinnedPost } from "../../supabase/functions/_shared/pinned-request.ts";

// DNS rebinding: a name that answers a public address to the SSRF guard and an internal one
// to the connection. Here the guard "checked" 127.0.0.2, a second lookup would say 127.0.0.1,
// and both addresses have a server on the same port: only the checked one may be reached.
const hits = { checked: 0, internal: 0 };
let checked: Server;
let internal: Server;
let port: number;

const listen = (server: Server, host: string, at = 0) =>
  new Promise<number>((resolve) => server.listen(at, host, () => resolve((server.address() as AddressInfo).port)));

beforeAll(async () => {
  checked = createServer((req, res) => {
    hits.checked++;
    if (req.url === "/slow") return;
    if (req.url === "/big") return void res.end("x".repeat(100_000));
    res.writeHead(201, { "retry-after": "7" }).end(`checked got ${req.headers.host}`);
  });
  internal = createServer((_req, res) => {
    hits.internal++;
    res.end("internal");
  });
  port = await listen(checked, "127.0.0.2");
  await listen(internal, "127.0.0.1", port);
});

afterAll(async () => {
  for (const server of [checked, internal]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const limits = { timeoutMs: 2000, bodyBytes: 64 };

describe("pinnedPost", () => {
  it("connects to the address the guard checked, never to a fresh lookup's, keeping the hostname", async () => {
    const answer = await pinnedPost(new URL(`http://rebinding.invalid:${port}/hook`), ["127.0.0.2"], {}, "{}", limits);
    expect(answer).toMatchObject({ status: 201, body: `checked got rebinding.invalid:${port}` });
    expect(answer.headers["retry-after"]).toBe("7");
    expect(hits.internal).toBe(0);
  });

  it("reads only the first bytes the policy keeps", async () => {
    const answer = await pinnedPost(new URL(`http://rebinding.invalid:${port}/big`), ["127.0.0.2"], {}, "{}", limits);
    expect(answer.body).toBe("x".repeat(64));
  });

  it("gives up after the timeout", async () => {
    await expect(pinnedPost(new URL(`http://rebinding.invalid:${port}/slow`), ["127.0.0.2"], {}, "{}", { ...limits, timeoutMs: 200 }))
      .rejects.toThrow(/timed out after 200 ms/);
  });
});
