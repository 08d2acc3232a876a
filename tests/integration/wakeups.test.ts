import { randomBytes, randomUUID } from "node:crypto";
import postgres from "postgres";
import { afterAll, beforeAll, describe, it } from "vitest";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";
import { until } from "../helpers/until.ts";

// A stack with the local wake-ups on and a sweep an hour away: only the queues' NOTIFY, sent
// by their statement triggers, can make anything happen here.
let own: OwnStack;
let sql: postgres.Sql;
let receiver: Receiver;

beforeAll(async () => {
  own = await startOwnStack("wakeup-test", { LOG_LEVEL: "error" }, { sweepSeconds: 3600 });
  sql = own.sql;
  receiver = await startReceiver();
}, 120_000);

afterAll(async () => {
  await receiver?.close();
  await own?.close();
});

describe("local wake-ups", () => {
  it("sends a queued email and a partner delivery without anyone calling the workers", async () => {
    const to = `wake-${randomUUID().slice(0, 8)}@example.com`;
    await sql`insert into public.webhook_endpoints (url, event_types, secret)
      values (${receiver.url("/wake")}, '{order.*}', ${`whsec_${randomBytes(24).toString("base64")}`})`;
    await sql`insert into public.orders (amount_total, currency, customer_email) values (1500, 'usd', ${to})
      returning id`;
    await sql`update public.orders set status = 'paid' where customer_email = ${to}`;

    await until(async () => receiver.received("/wake").length, (n) => n === 2, "order.created and order.updated");
    await until(
      async () => (await sql`select status from public.email_queue where recipient = ${to}`)[0]?.status,
      (status) => status === "delivered",
      "the order confirmation to be delivered",
    );
  });
});
