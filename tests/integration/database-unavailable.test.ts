import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveFunction, type ServedFunction } from "../../dev/stack/functions.ts";
import { stripeEvent } from "../../dev/stripe/fixtures.ts";
import { createOrder, postStripe, stack, testSql } from "../helpers/stack.ts";
import { startTcpProxy, type TcpProxy } from "../../dev/chaos/tcp-proxy.ts";

const sql = testSql();
let proxy: TcpProxy;
let fn: ServedFunction;
let url: string;

// A second stripe-webhook process whose database connection runs through a proxy the test
// can cut, as a pooler restart or network partition would.
beforeAll(async () => {
  const db = new URL(stack.DATABASE_URL);
  proxy = await startTcpProxy({ host: db.hostname, port: Number(db.port) });
  const viaProxy = new URL(stack.DATABASE_URL);
  viaProxy.port = String(proxy.port);
  fn = await serveFunction("stripe-webhook", {
    ...stack,
    SUPABASE_DB_URL: viaProxy.toString(),
    LOG_LEVEL: "error",
  }, () => {});
  url = `http://127.0.0.1:${fn.port}/stripe-webhook`;
});

afterAll(async () => {
  await fn?.stop();
  await proxy?.close();
});

describe("when the database is unavailable", () => {
  it("answers 503 with Retry-After, stores nothing, and processes Stripe's retry once it is back", async () => {
    const warmOrder = await createOrder(sql);
    expect((await postStripe(stripeEvent("payment_intent.succeeded", { orderId: warmOrder }), { url })).status).toBe(200);

    const orderId = await createOrder(sql);
    const event = stripeEvent("payment_intent.succeeded", { orderId });
    await proxy.cut();
    const during = await postStripe(event, { url });
    expect(during.status).toBe(503);
    expect(during.headers.get("retry-after")).toBeTruthy();
    expect(during.body.error.code).toBe("service_unavailable");

    const stored = await sql`select 1 from public.webhook_events where event_id = ${event.id as string}`;
    expect(stored).toHaveLength(0);
    const [order] = await sql`select status from public.orders where id = ${orderId}`;
    expect(order.status).toBe("pending");

    await proxy.restore();
    const after = await postStripe(event, { url });
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: "processed", duplicate: false });
    const [paid] = await sql`select status from public.orders where id = ${orderId}`;
    expect(paid.status).toBe("paid");
  });
});
