import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { type CreateEmailOptions, Resend } from "resend";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type ResendStandIn, startResendStandIn } from "../../dev/resend/server.ts";

const email = (overrides: Partial<Record<string, unknown>> = {}) =>
  ({
    from: "Shop <orders@shop.example.com>",
    to: "ada@example.com",
    subject: "Your order",
    html: "<p>Thanks!</p>",
    ...overrides,
  }) as CreateEmailOptions;

const logs: string[] = [];
let api: ResendStandIn;
let resend: Resend;

beforeAll(async () => {
  api = await startResendStandIn({ port: 0, rateLimitPerSecond: 0, log: (line) => logs.push(line) });
  resend = new Resend("re_test_key", { baseUrl: api.url });
});

afterAll(async () => {
  await api.close();
});

beforeEach(() => {
  api.reset();
});

describe("POST /emails", () => {
  it("accepts an email and keeps it in the inbox", async () => {
    const { data, error } = await resend.emails.send(
      email({
        to: ["ada@example.com", "Bob <bob@example.com>"],
        text: "Thanks!",
        tags: [{ name: "kind", value: "order" }],
      }),
    );
    expect(error).toBeNull();
    expect(data?.id).toMatch(/^[0-9a-f-]{36}$/);

    const [stored] = api.inbox();
    expect(api.inbox()).toHaveLength(1);
    expect(stored).toMatchObject({
      id: data?.id,
      from: "Shop <orders@shop.example.com>",
      to: ["ada@example.com", "Bob <bob@example.com>"],
      subject: "Your order",
      html: "<p>Thanks!</p>",
      text: "Thanks!",
      tags: [{ name: "kind", value: "order" }],
      idempotencyKey: null,
    });

    const listed = await (await fetch(`${api.url}/inbox`)).json();
    expect(listed.data.map((e: { id: string }) => e.id)).toEqual([data?.id]);
    const one = await (await fetch(`${api.url}/inbox/${data?.id}`)).json();
    expect(one.subject).toBe("Your order");

    const retrieved = await resend.emails.get(data!.id);
    expect(retrieved.data).toMatchObject({ object: "email", id: data?.id, to: stored.to, last_event: "delivered" });
  });

  it("requires a bearer API key", async () => {
    const res = await fetch(`${api.url}/emails`, { method: "POST", body: JSON.stringify(email()) });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      statusCode: 401,
      name: "missing_api_key",
      message: "Missing API key in the authorization header.",
    });
  });

  it("refuses invalid bodies with 422 and stores nothing", async () => {
    const invalid = await resend.emails.send(email({ to: "not-an-address" }));
    expect(invalid.data).toBeNull();
    expect(invalid.error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(invalid.error?.message).toContain("`to`");

    const missing = await resend.emails.send(email({ subject: undefined }));
    expect(missing.error).toMatchObject({ statusCode: 422, name: "missing_required_field" });

    const noBody = await resend.emails.send(email({ html: undefined }));
    expect(noBody.error?.statusCode).toBe(422);

    const tooMany = await resend.emails.send(email({ to: Array.from({ length: 51 }, (_, i) => `u${i}@example.com`) }));
    expect(tooMany.error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(api.inbox()).toHaveLength(0);
  });

  it("shows received emails on an escaped HTML page", async () => {
    const { data } = await resend.emails.send(email({ subject: "<script>alert(1)</script>", html: "<h1>Hi</h1>" }));
    const page = await (await fetch(`${api.url}/`)).text();
    expect(page).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(page).not.toContain("<script>alert(1)");
    const body = await fetch(`${api.url}/inbox/${data?.id}/html`);
    expect(body.headers.get("content-security-policy")).toContain("sandbox");
    expect(await body.text()).toBe("<h1>Hi</h1>");
  });
});

describe("POST /emails/batch", () => {
  const batchOf = (n: number) => Array.from({ length: n }, (_, i) => email({ to: `user${i}@example.com` }));

  it("accepts 100 emails and answers their ids in order", async () => {
    const { data, error } = await resend.batch.send(batchOf(100));
    expect(error).toBeNull();
    expect(data?.data).toHaveLength(100);
    const inbox = api.inbox();
    expect(inbox).toHaveLength(100);
    // Newest first in the inbox, request order in the response.
    expect(data?.data.map((d) => d.id)).toEqual(inbox.map((e) => e.id).reverse());
    expect(inbox.at(-1)?.to).toEqual(["user0@example.com"]);
  });

  it("refuses 101 emails, an empty batch, and (strict mode) a batch with one bad email", async () => {
    const tooMany = await resend.batch.send(batchOf(101));
    expect(tooMany.error).toMatchObject({ statusCode: 422, name: "validation_error" });
    const empty = await resend.batch.send([]);
    expect(empty.error?.statusCode).toBe(422);
    const oneBad = await resend.batch.send([...batchOf(3), email({ to: "nope" })]);
    expect(oneBad.error).toMatchObject({ statusCode: 422, name: "validation_error" });
    expect(api.inbox()).toHaveLength(0);
  });

  it("in permissive mode accepts the valid emails and reports the others", async () => {
    const { data } = await resend.batch.send([email(), email({ to: "nope" }), email()], {
      batchValidation: "permissive",
    });
    expect(data?.data).toHaveLength(2);
    expect(data?.errors).toEqual([{ index: 1, message: expect.stringContaining("`to`") }]);
    expect(api.inbox()).toHaveLength(2);
  });
});

describe("idempotency keys", () => {
  it("replays the first response for the same key and body, storing the email once", async () => {
    const first = await resend.emails.send(email(), { idempotencyKey: "order-1/confirmation" });
    const second = await resend.emails.send(email(), { idempotencyKey: "order-1/confirmation" });
    expect(first.error).toBeNull();
    expect(second.data?.id).toBe(first.data?.id);
    expect(api.inbox()).toHaveLength(1);
    expect(api.inbox()[0].idempotencyKey).toBe("order-1/confirmation");
  });

  it("replays batches too, with the same ids", async () => {
    const batch = [email(), email({ to: "bob@example.com" })];
    const first = await resend.batch.send(batch, { idempotencyKey: "batch-1" });
    const second = await resend.batch.send(batch, { idempotencyKey: "batch-1" });
    expect(second.data?.data).toEqual(first.data?.data);
    expect(api.inbox()).toHaveLength(2);
  });

  it("counts the replays it answered at GET /_control/stats, back to 0 on reset", async () => {
    const stats = async () => (await fetch(`${api.url}/_control/stats`)).json();
    await resend.emails.send(email(), { idempotencyKey: "counted" });
    expect(await stats()).toEqual({ replays: 0 });
    await resend.emails.send(email(), { idempotencyKey: "counted" });
    await resend.emails.send(email(), { idempotencyKey: "counted" });
    expect(await stats()).toEqual({ replays: 2 });
    api.reset();
    expect(await stats()).toEqual({ replays: 0 });
  });

  it("answers 409 invalid_idempotent_request for the same key with a different body", async () => {
    await resend.emails.send(email(), { idempotencyKey: "k-1" });
    const { error } = await resend.emails.send(email({ subject: "Something else" }), { idempotencyKey: "k-1" });
    expect(error).toMatchObject({ statusCode: 409, name: "invalid_idempotent_request" });
    expect(api.inbox()).toHaveLength(1);
  });

  it("does not keep the key of a failed request, and refuses keys over 256 characters", async () => {
    const failed = await resend.emails.send(email({ to: "nope" }), { idempotencyKey: "k-2" });
    expect(failed.error?.statusCode).toBe(422);
    const ok = await resend.emails.send(email(), { idempotencyKey: "k-2" });
    expect(ok.error).toBeNull();

    const long = await resend.emails.send(email(), { idempotencyKey: "x".repeat(257) });
    expect(long.error).toMatchObject({ statusCode: 400, name: "invalid_idempotency_key" });
  });
});

describe("rate limit", () => {
  let limited: ResendStandIn;
  beforeAll(async () => {
    limited = await startResendStandIn({ port: 0 });
  });
  afterAll(async () => {
    await limited.close();
  });

  it("refuses bursts beyond 5 requests per second with 429 and retry-after", async () => {
    const client = new Resend("re_test_key", { baseUrl: limited.url });
    const ok = await client.emails.send(email());
    expect(ok.headers?.["ratelimit-limit"]).toBe("5");
    expect(ok.headers?.["ratelimit-remaining"]).toBeDefined();

    // A burst of 5 is allowed, so sending until refused must hit the limit well within 20 tries.
    let refused: Awaited<ReturnType<typeof client.emails.send>> | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const result = await client.emails.send(email());
      if (result.error) refused = result;
    }
    expect(refused?.error).toMatchObject({ statusCode: 429, name: "rate_limit_exceeded" });
    expect(Number(refused?.headers?.["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(refused?.headers?.["ratelimit-remaining"]).toBe("0");

    // Idempotent replays do not spend budget, and the limit can be lifted at run time.
    const control = await fetch(`${limited.url}/_control/rate-limit`, {
      method: "POST",
      body: JSON.stringify({ perSecond: 0 }),
    });
    expect(control.status).toBe(200);
    for (let i = 0; i < 10; i++) expect((await client.emails.send(email())).error).toBeNull();
  });
});

describe("failure injection", () => {
  it("answers injected 500s, then recovers, storing nothing for the failures", async () => {
    api.injectFailures({ status: 500, count: 2 });
    for (let i = 0; i < 2; i++) {
      const { error } = await resend.emails.send(email(), { idempotencyKey: "retry-me" });
      expect(error).toMatchObject({ statusCode: 500, name: "internal_server_error" });
    }
    const ok = await resend.emails.send(email(), { idempotencyKey: "retry-me" });
    expect(ok.error).toBeNull();
    expect(api.inbox()).toHaveLength(1);
  });

  it("answers an injected 429 with its retry-after, and 503 over HTTP control", async () => {
    api.injectFailures({ status: 429, count: 1, retryAfter: 7 });
    const limited = await resend.batch.send([email()]);
    expect(limited.error).toMatchObject({ statusCode: 429, name: "rate_limit_exceeded" });
    expect(limited.headers?.["retry-after"]).toBe("7");

    const control = await fetch(`${api.url}/_control/failures`, {
      method: "POST",
      body: JSON.stringify({ status: 503, count: 1 }),
    });
    expect(control.status).toBe(200);
    const unavailable = await resend.emails.send(email());
    expect(unavailable.error?.statusCode).toBe(503);
    expect(api.inbox()).toHaveLength(0);
  });

  it("hangs in timeout mode until the client gives up, holding the idempotency key meanwhile", async () => {
    logs.length = 0;
    await fetch(`${api.url}/_control/failures`, {
      method: "POST",
      body: JSON.stringify({ mode: "timeout", count: 1 }),
    });
    const controller = new AbortController();
    const hung = fetch(`${api.url}/emails`, {
      method: "POST",
      headers: { authorization: "Bearer re_test_key", "idempotency-key": "slow-1" },
      body: JSON.stringify(email()),
      signal: controller.signal,
    });
    const outcome = hung.then(() => "answered", (error: Error) => error.name);
    await vi.waitFor(() => expect(logs.some((l) => l.includes("injected timeout"))).toBe(true));

    // While the first request is stuck, a retry with the same key is told to wait.
    const concurrent = await resend.emails.send(email(), { idempotencyKey: "slow-1" });
    expect(concurrent.error).toMatchObject({ statusCode: 409, name: "concurrent_idempotent_requests" });

    controller.abort();
    expect(await outcome).toBe("AbortError");
    expect(api.inbox()).toHaveLength(0);
    // Once the client hung up, the key is free again.
    await vi.waitFor(async () => {
      expect((await resend.emails.send(email(), { idempotencyKey: "slow-1" })).error).toBeNull();
    });
    expect(api.inbox()).toHaveLength(1);
  });

  it("lets the client's own timeout fire, and close() still finishes with a request hanging", async () => {
    const serverLogs: string[] = [];
    const server = await startResendStandIn({ port: 0, log: (line) => serverLogs.push(line) });
    server.injectFailures({ mode: "timeout", count: 2 });
    const timedOut = await fetch(`${server.url}/emails`, {
      method: "POST",
      headers: { authorization: "Bearer re_test_key" },
      body: JSON.stringify(email()),
      signal: AbortSignal.timeout(200),
    }).then(() => "answered", (error: Error) => error.name);
    expect(timedOut).toBe("TimeoutError");

    const stillHanging = fetch(`${server.url}/emails`, {
      method: "POST",
      headers: { authorization: "Bearer re_test_key" },
      body: JSON.stringify(email()),
    }).then(() => "answered", () => "failed");
    // The log line means the server has the request and is holding it.
    await vi.waitFor(() => expect(serverLogs.filter((l) => l.includes("injected timeout"))).toHaveLength(2));
    await server.close();
    expect(await stillHanging).toBe("failed");
    expect(server.inbox()).toHaveLength(0);
  });

  it("in drop-response mode sends the email but never answers; a keyed retry gets the original id", async () => {
    api.injectFailures({ mode: "drop-response", count: 1 });
    const lost = await fetch(`${api.url}/emails`, {
      method: "POST",
      headers: { authorization: "Bearer re_test_key", "idempotency-key": "lost-1" },
      body: JSON.stringify(email()),
      signal: AbortSignal.timeout(200),
    }).then(() => "answered", (error: Error) => error.name);
    expect(lost).toBe("TimeoutError");
    expect(api.inbox()).toHaveLength(1);

    const retry = await resend.emails.send(email(), { idempotencyKey: "lost-1" });
    expect(retry.data?.id).toBe(api.inbox()[0].id);
    expect(api.inbox()).toHaveLength(1);
  });
});

describe("webhooks", () => {
  interface Received {
    headers: IncomingHttpHeaders;
    body: string;
  }
  const secret = `whsec_${randomBytes(24).toString("base64")}`;
  const received: Received[] = [];
  let failNext = 0;
  let receiver: Server;
  let hooked: ResendStandIn;
  let client: Resend;

  const verify = (r: Received) =>
    new Resend("re_test_key").webhooks.verify({
      payload: r.body,
      headers: {
        id: String(r.headers["svix-id"]),
        timestamp: String(r.headers["svix-timestamp"]),
        signature: String(r.headers["svix-signature"]),
      },
      webhookSecret: secret,
    }) as unknown as { type: string; created_at: string; data: Record<string, unknown> };

  const eventsFor = (id: string) => received.map(verify).filter((e) => e.data.email_id === id);

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const { port } = receiver.address() as AddressInfo;
    hooked = await startResendStandIn({
      port: 0,
      rateLimitPerSecond: 0,
      webhook: { url: `http://127.0.0.1:${port}/webhooks/resend`, secret },
      log: (line) => logs.push(line),
    });
    client = new Resend("re_test_key", { baseUrl: hooked.url });
  });

  afterAll(async () => {
    await hooked.close();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it("posts signed email.sent then email.delivered, and records what the receiver answered", async () => {
    const { data } = await client.emails.send(
      email({ to: "ada@example.com", tags: [{ name: "kind", value: "order" }] }),
    );
    const id = data!.id;
    await vi.waitFor(() => expect(eventsFor(id)).toHaveLength(2));
    const events = eventsFor(id);
    expect(events.map((e) => e.type)).toEqual(["email.sent", "email.delivered"]);
    expect(events[1].data).toMatchObject({
      email_id: id,
      from: "Shop <orders@shop.example.com>",
      to: ["ada@example.com"],
      subject: "Your order",
      tags: { kind: "order" },
    });
    const ids = received.filter((r) => r.body.includes(id)).map((r) => r.headers["svix-id"]);
    expect(new Set(ids).size).toBe(2);
    expect(String(ids[0])).toMatch(/^msg_/);

    await vi.waitFor(() => {
      const stored = hooked.inbox().find((e) => e.id === id);
      expect(stored?.events.map((e) => [e.type, e.state, e.status])).toEqual([
        ["email.sent", "delivered", 200],
        ["email.delivered", "delivered", 200],
      ]);
    });
  });

  it("bounces recipients whose local part contains 'bounce', and complains for 'complain'", async () => {
    const bounced = (await client.emails.send(email({ to: "bounce@example.com" }))).data!.id;
    const complained = (await client.emails.send(email({ to: "complained@example.com" }))).data!.id;
    await vi.waitFor(() => {
      expect(eventsFor(bounced)).toHaveLength(2);
      expect(eventsFor(complained)).toHaveLength(3);
    });
    const bounceEvents = eventsFor(bounced);
    expect(bounceEvents.map((e) => e.type)).toEqual(["email.sent", "email.bounced"]);
    expect(bounceEvents[1].data.bounce).toMatchObject({ type: "Permanent", subType: "General" });
    expect(eventsFor(complained).map((e) => e.type)).toEqual(["email.sent", "email.delivered", "email.complained"]);
    expect((await client.emails.get(bounced)).data?.last_event).toBe("bounced");
  });

  it("emits events on request, by method and over HTTP, retrying a failed post", async () => {
    const id = (await client.emails.send(email())).data!.id;
    await vi.waitFor(() => expect(eventsFor(id)).toHaveLength(2));

    failNext = 1;
    await hooked.emit(id, "email.opened");
    const opened = hooked.inbox().find((e) => e.id === id)?.events.at(-1);
    expect(opened).toMatchObject({ type: "email.opened", state: "delivered", status: 200, attempts: 2 });

    const res = await fetch(`${hooked.url}/_control/emails/${id}/events`, {
      method: "POST",
      body: JSON.stringify({ type: "email.clicked" }),
    });
    expect(await res.json()).toMatchObject({ type: "email.clicked", state: "delivered", status: 200 });
    expect(eventsFor(id).map((e) => e.type)).toEqual([
      "email.sent",
      "email.delivered",
      "email.opened",
      "email.clicked",
    ]);
  });

  it("does not post again for idempotent replays", async () => {
    const first = (await client.emails.send(email(), { idempotencyKey: "hook-1" })).data!.id;
    await vi.waitFor(() => expect(eventsFor(first)).toHaveLength(2));
    const again = (await client.emails.send(email(), { idempotencyKey: "hook-1" })).data!.id;
    expect(again).toBe(first);
    // Events are recorded as soon as they are queued, so a replay that started a second
    // lifecycle would show up here even before its posts arrive.
    await hooked.emit(first, "email.opened");
    const stored = hooked.inbox().find((e) => e.id === first);
    expect(stored?.events.map((e) => e.type)).toEqual(["email.sent", "email.delivered", "email.opened"]);
    expect(eventsFor(first).map((e) => e.type)).toEqual(["email.sent", "email.delivered", "email.opened"]);
  });
});
