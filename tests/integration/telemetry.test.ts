import { randomBytes } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServedFunction, serveFunction } from "../../dev/stack/functions.ts";
import { otelEnv, type ReceivedSpan, type SpanReceiver, startSpanReceiver } from "../../dev/stack/span-printer.ts";
import type { ThrowawayStack } from "../../dev/stack/throwaway.ts";
import { signStripePayload, stripeEvent } from "../../dev/stripe/fixtures.ts";
import { jsonb } from "../../supabase/functions/_shared/sql-json.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { until } from "../helpers/until.ts";

// The dispatcher claims every due delivery in its database, so this file has a stack of its
// own. Functions started here with OTEL_DENO=true export to a span receiver, as `npm start --
// --otel` runs them.
let own: OwnStack;
let stack: ThrowawayStack;
let sql: postgres.Sql;
let spanReceiver: SpanReceiver;
let partner: Receiver;
const spans: ReceivedSpan[] = [];
const traced: ServedFunction[] = [];

beforeAll(async () => {
  own = await startOwnStack("telemetry-test", { LOG_LEVEL: "error" });
  ({ stack, sql } = own);
  spanReceiver = await startSpanReceiver((span) => spans.push(span));
  partner = await startReceiver();
}, 120_000);

afterAll(async () => {
  await Promise.all(traced.map((fn) => fn.stop()));
  await partner?.close();
  await spanReceiver?.stop();
  await own?.close();
});

/** Function `name` under Deno with OpenTelemetry on, exporting to this file's receiver. */
async function serveTraced(name: string): Promise<ServedFunction> {
  const fn = await serveFunction(
    name,
    { ...stack.env, LOG_LEVEL: "error", WEBHOOK_ALLOW_HTTP: "true", WEBHOOK_ALLOWED_HOSTS: "127.0.0.1", ...otelEnv(spanReceiver.endpoint) },
    () => {},
  );
  traced.push(fn);
  return fn;
}

/** Waits until spans matching `where` have arrived (Deno exports in batches). */
const spansWhere = (where: (span: ReceivedSpan) => boolean, count: number, what: string) =>
  until(() => Promise.resolve(spans.filter(where)), (found) => found.length >= count, what);

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe("stripe-webhook with OTEL_DENO=true", () => {
  it("exports webhook.verify and webhook.record spans inside Deno's server span, named by its route", async () => {
    const fn = await serveTraced("stripe-webhook");
    const event = stripeEvent("customer.created");
    const payload = JSON.stringify(event);
    const signature = await signStripePayload(payload, stack.env.STRIPE_WEBHOOK_SECRET.split(",")[0]);
    // An api key in the query string must reach neither the log nor a span.
    const url = `http://127.0.0.1:${fn.port}/stripe-webhook?apikey=sk_query_secret`;
    const post = (headers: Record<string, string>) =>
      fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: payload });
    expect((await post({ "stripe-signature": signature })).status).toBe(200);
    expect((await post({ "stripe-signature": "t=1,v1=00" })).status).toBe(401);

    const ours = await spansWhere(
      (span) => span.service === "stripe-webhook" && span.name.startsWith("webhook."),
      3,
      "stripe-webhook's spans",
    );
    const [verified, refused] = ours.filter((span) => span.name === "webhook.verify");
    const record = ours.find((span) => span.name === "webhook.record")!;
    expect(verified.attributes).toEqual({ provider: "stripe", outcome: "verified" });
    expect(refused.attributes).toMatchObject({ provider: "stripe", outcome: expect.stringMatching(/signature|tolerance/) });
    expect(refused.status).toBe(2);
    expect(record.attributes).toMatchObject({
      provider: "stripe",
      "event.id": event.id,
      "event.type": "customer.created",
      outcome: expect.any(String),
      duplicate: false,
    });
    // Both are children of the request's server span, which Deno.serve made.
    expect(record.traceId).toBe(verified.traceId);
    const server = spans.find((span) => span.spanId === verified.parentSpanId);
    expect(server).toMatchObject({ service: "stripe-webhook", traceId: verified.traceId, name: "POST /stripe-webhook" });
    expect(server!.attributes).toMatchObject({
      "http.route": "/stripe-webhook",
      "url.full": `http://127.0.0.1:${fn.port}/stripe-webhook`,
      "url.query": "[REDACTED]",
    });
    expect(record.parentSpanId).toBe(server!.spanId);
    expect(JSON.stringify(spans)).not.toContain("sk_query_secret");
  });
});

describe("email-service with OTEL_DENO=true", () => {
  it("exports email.claim, email.send and email.complete spans for a drain", async () => {
    const fn = await serveTraced("email-service");
    const call = (body: unknown) =>
      fetch(`http://127.0.0.1:${fn.port}/email-service`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}` },
        body: JSON.stringify(body),
      });
    const data = { reset_url: "https://shop.example/r" };
    expect((await call({ action: "send", template: "password_reset", to: "traced@example.com", data })).status).toBe(202);
    expect((await call({ action: "drain" })).status).toBe(200);
    const names = ["email.claim", "email.send", "email.complete"];
    const found = await spansWhere((span) => names.includes(span.name), 3, "the drain's spans");
    const named = (name: string) => found.find((span) => span.name === name)!;
    expect(named("email.claim").attributes).toMatchObject({ "batch.size": 1 });
    expect(named("email.send").attributes).toMatchObject({ provider: "resend", "batch.size": 1, outcome: "sent" });
    expect(named("email.complete").attributes).toMatchObject({ outcome: "sent" });
  });
});

describe("webhook-dispatcher with OTEL_DENO=true", () => {
  it("exports claim, send and complete spans; the delivery carries one traceparent inside webhook.send", async () => {
    const fn = await serveTraced("webhook-dispatcher");
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const [endpoint] = await sql`
      insert into public.webhook_endpoints (url, event_types, secret)
      values (${partner.url("/traced")}, ${["*"]}, ${secret}) returning id`;
    const [{ id: eventId }] = await sql`select public.publish_event('order.updated', null, ${jsonb(sql, { n: 1 })}) as id`;
    const res = await fetch(`http://127.0.0.1:${fn.port}/webhook-dispatcher`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}` },
      body: '{"action":"dispatch"}',
    });
    expect(res.status).toBe(200);
    const [delivery] = partner.received("/traced");
    const traceparent = delivery.headers.traceparent;
    expect(traceparent).toMatch(TRACEPARENT);

    const [send] = await spansWhere((span) => span.name === "webhook.send", 1, "the webhook.send span");
    await spansWhere((span) => span.name === "webhook.complete", 1, "the webhook.complete span");
    expect(send.attributes).toMatchObject({ "endpoint.id": endpoint.id, "event.id": eventId, "event.type": "order.updated", outcome: "200" });
    expect(spans.find((span) => span.name === "webhook.claim")?.attributes).toMatchObject({ "batch.size": 1 });
    expect(spans.find((span) => span.name === "webhook.complete")?.attributes).toMatchObject({ outcome: "SUCCESS" });
    // The partner's trace continues from the delivery's POST: Deno's fetch span, a child of webhook.send.
    const [, traceId, parentId] = TRACEPARENT.exec(String(traceparent))!;
    expect(traceId).toBe(send.traceId);
    const fetchSpan = await spansWhere((span) => span.spanId === parentId, 1, "the delivery's fetch span");
    expect(fetchSpan[0].parentSpanId).toBe(send.spanId);
  });

  it("with tracing off (the stack's own dispatcher), a delivery carries no traceparent", async () => {
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    await sql`update public.webhook_endpoints set active = false`;
    await sql`insert into public.webhook_endpoints (url, event_types, secret) values (${partner.url("/untraced")}, ${["*"]}, ${secret})`;
    await sql`select public.publish_event('order.updated', null, ${jsonb(sql, { n: 2 })})`;
    const res = await fetch(`${stack.env.SUPABASE_URL}/functions/v1/webhook-dispatcher`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${stack.env.SUPABASE_SERVICE_ROLE_KEY}` },
      body: '{"action":"dispatch"}',
    });
    expect(res.status).toBe(200);
    const [delivery] = await until(() => Promise.resolve(partner.received("/untraced")), (r) => r.length > 0, "the delivery");
    expect(delivery.headers.traceparent).toBeUndefined();
  });
});
