import { randomUUID } from "node:crypto";
import { connect } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { functionUrl, stack, testSql } from "../helpers/stack.ts";

// The action routes of webhook-endpoints take an optional body. Clients call them the way
// the README shows them, with nothing but a method and a credential, through the gateway.
const sql = testSql();
const api = functionUrl("webhook-endpoints");
const auth = { authorization: `Bearer ${stack.SUPABASE_SERVICE_ROLE_KEY}` };
const created: string[] = [];

afterAll(async () => {
  await sql`delete from public.webhook_endpoints where id = any(${created}::uuid[])`;
});

/** An inactive endpoint (no dispatcher run delivers to it), removed after the file. */
async function endpoint(): Promise<{ id: string; secret: string }> {
  const res = await fetch(`${api}/`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ url: `http://127.0.0.1:9/${randomUUID()}`, active: false }),
  });
  const body = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(201);
  created.push(body.id);
  return body;
}

/**
 * What `curl -X POST -H "Authorization: ..." <url>` writes on the wire: no Content-Type, no
 * Content-Length, no body. (fetch adds `Content-Length: 0`, so it cannot send this.)
 */
function curlPost(url: string): Promise<{ status: number; body: string }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n` +
          `Authorization: ${auth.authorization}\r\nConnection: close\r\n\r\n`,
      );
    });
    let raw = "";
    socket.on("data", (chunk) => (raw += chunk.toString()));
    socket.on("error", reject);
    socket.on("end", () => {
      const [head, ...rest] = raw.split("\r\n\r\n");
      const body = /transfer-encoding: chunked/i.test(head)
        ? rest.join("\r\n\r\n").split("\r\n").filter((_, i) => i % 2 === 1).join("")
        : rest.join("\r\n\r\n");
      resolve({ status: Number(head.split(" ")[1]), body });
    });
  });
}

describe("POST /webhook-endpoints/:id/rotate-secret with no body", () => {
  it('rotates when sent as fetch(url, {method: "POST"}) sends it', async () => {
    const before = await endpoint();
    const res = await fetch(`${api}/${before.id}/rotate-secret`, { method: "POST", headers: auth });
    const body = await res.json();
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.secret).not.toBe(before.secret);
    const [row] = await sql`select secret, previous_secret from public.webhook_endpoints where id = ${before.id}`;
    expect(row).toEqual({ secret: body.secret, previous_secret: before.secret });
  });

  it("rotates when sent as curl -X POST sends it", async () => {
    const before = await endpoint();
    const res = await curlPost(`${api}/${before.id}/rotate-secret`);
    expect(res.status, res.body).toBe(200);
    expect(JSON.parse(res.body).secret).not.toBe(before.secret);
  });

  it("still answers 415 for a body that is there and not JSON, and rotates nothing", async () => {
    const before = await endpoint();
    for (const headers of [{ "content-type": "text/plain" }, {}]) {
      const res = await fetch(`${api}/${before.id}/rotate-secret`, {
        method: "POST",
        headers: { ...auth, ...headers },
        body: '{"expire_previous":true}',
      });
      expect(res.status).toBe(415);
      expect((await res.json()).error.code).toBe("unsupported_media_type");
    }
    const [row] = await sql`select secret from public.webhook_endpoints where id = ${before.id}`;
    expect(row.secret).toBe(before.secret);
  });
});

describe("POST /webhook-endpoints/:id/test with no body", () => {
  const fetchPost = async (url: string) => {
    const res = await fetch(url, { method: "POST", headers: auth });
    return { status: res.status, body: await res.text() };
  };

  it.each([
    ['fetch(url, {method: "POST"})', fetchPost],
    ["curl -X POST", curlPost],
  ])("queues a webhook.test event when sent as %s sends it", async (_label, send) => {
    const { id } = await endpoint();
    const res = await send(`${api}/${id}/test`);
    expect(res.status, res.body).toBe(202);
    const eventId = JSON.parse(res.body).event_id;
    const deliveries = await sql`
      select d.endpoint_id, ev.type from public.webhook_deliveries d
      join public.outbound_events ev on ev.id = d.event_id where d.event_id = ${eventId}`;
    expect(deliveries).toEqual([{ endpoint_id: id, type: "webhook.test" }]);
  });
});
