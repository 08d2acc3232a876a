import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startThrowawayStack, type ThrowawayStack } from "../../dev/stack/throwaway.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";

// A stack with the local wake-ups on and a sweep an hour away: only the queues' NOTIFY, sent
// by their statement triggers, can make anything happen here.
let stack: ThrowawayStack;
let sql: postgres.Sql;
let receiver: Receiver;

beforeAll(async () => {
  stack = await startThrowawayStack("wakeup-test", { LOG_LEVEL: "error" }, undefined, { sweepSeconds: 3600 });
  sql = postgres(stack.env.DATABASE_URL, { max: 2, onnotice: () => {} });
  receiver = await startReceiver();
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await sql?.end();
  await stack?.dispose();
});

async function until(probe: () => Promise<boolean>, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("local wake-ups", () => {
  it("sends a queued email and a partner delivery without anyone calling the workers", async () => {
    const to = `wake-${randomUUID().slice(0, 8)}@example.com`;
    await sql`insert into public.webhook_endpoints (url, event_types, secret)
      values (${receiver.url("/wake")}, '{order.*}', ${`whsec_${randomBytes(24).toString("base64")}`})`;
    await sql`insert into public.orders (amount_total, currency, customer_email) values (1500, 'usd', ${to})
      returning id`;
    await sql`update public.orders set status = 'paid' where customer_email = ${to}`;

    await until(async () => receiver.received("/wake").length === 2, "order.created and order.updated");
    await until(async () => {
      const [job] = await sql`select status from public.email_queue where recipient = ${to}`;
      return job?.status === "delivered";
    }, "the order confirmation to be delivered");
  });
});
