import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { stripeEvent } from "../../dev/stripe/fixtures.ts";
import { postStripe, testSql } from "../helpers/stack.ts";

// Order lines and what an order's emails and partners' events carry of them: written by the
// app with the order, read at commit by order.created and by the confirmation email.
const sql = testSql();

const ITEMS = [
  { product_id: "prod_mug", name: "Stoneware mug", sku: "MUG-1", quantity: 2, unit_price: 1800, position: 1 },
  { product_id: "prod_tea", name: "Sencha, 100 g", sku: null, quantity: 1, unit_price: 1250, position: 2 },
];

/** Creates an order and its lines in one transaction, as the README tells the app to. */
async function createOrder(fields: Record<string, unknown>, items = ITEMS) {
  return await sql.begin(async (tx) => {
    const [order] = await tx<{ id: string; number: string }[]>`
      insert into public.orders ${tx({ currency: "usd", number: tx`public.next_order_number()` as never, ...fields })}
      returning id, number`;
    for (const item of items) await tx`insert into public.order_items ${tx({ order_id: order.id, currency: "usd", ...item })}`;
    return order;
  });
}

async function endpointFor(tenant: string) {
  await sql`
    insert into public.webhook_endpoints (tenant_id, url, event_types, secret)
    values (${tenant}, 'https://partner.example/hooks', '{order.created}', ${`whsec_${"B".repeat(32)}`})`;
}

describe("order lines", () => {
  it("numbers orders ORD-<year>-<six digits>, each once", async () => {
    const [{ a, b }] = await sql<{ a: string; b: string }[]>`select public.next_order_number() as a, public.next_order_number() as b`;
    expect(a).toMatch(new RegExp(`^ORD-${new Date().getUTCFullYear()}-\\d{6}$`));
    expect(b).not.toBe(a);
  });

  it("order.created carries the lines written after the order in the same transaction, in their order", async () => {
    const tenant = randomUUID();
    await endpointFor(tenant);
    const order = await createOrder({ tenant_id: tenant, amount_total: 4850 });
    const [event] = await sql<{ data: { object: Record<string, unknown> } }[]>`
      select data from public.outbound_events where type = 'order.created' and tenant_id = ${tenant}`;
    expect(event.data.object).toMatchObject({ id: order.id, number: order.number });
    expect(event.data.object.items).toEqual([
      { product_id: "prod_mug", name: "Stoneware mug", sku: "MUG-1", quantity: 2, unit_price: 1800, line_total: 3600, currency: "USD", image_url: null },
      { product_id: "prod_tea", name: "Sencha, 100 g", sku: null, quantity: 1, unit_price: 1250, line_total: 1250, currency: "USD", image_url: null },
    ]);
  });

  it("queues the confirmation of an order paid through Stripe with its lines and what the session said of the customer", async () => {
    const order = await createOrder({ amount_total: 4850, amount_tax: 0 });
    const event = stripeEvent("checkout.session.completed", { orderId: order.id, amount: 4850, email: "ada@example.com" });
    const address = { line1: "1 Main St", line2: null, city: "Springfield", state: "IL", postal_code: "62701", country: "US" };
    Object.assign(event.data.object as Record<string, unknown>, {
      amount_subtotal: 4850,
      total_details: { amount_discount: 0, amount_shipping: 500, amount_tax: 350 },
      collected_information: { shipping_details: { name: "Ada Lovelace", address } },
    });
    const answer = await postStripe(event);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);

    const [stored] = await sql`select customer_name, shipping_address, amount_shipping, amount_tax from public.orders where id = ${order.id}`;
    // amount_tax was the app's own (0): what the app wrote wins over what the event says.
    // bigint columns come back as text from postgres.js.
    expect(stored).toMatchObject({ customer_name: "Ada Lovelace", amount_shipping: "500", amount_tax: "0" });
    expect(stored.shipping_address).toMatchObject({ name: "Ada Lovelace", line1: "1 Main St", country: "US" });
    const [job] = await sql<{ data: Record<string, unknown> }[]>`
      select data from public.email_queue where idempotency_key = ${`order_confirmation:${order.id}`}`;
    expect(job.data).toMatchObject({
      order_number: order.number,
      customer_name: "Ada Lovelace",
      total: 4850,
      shipping: 500,
      tax: 0,
      currency: "USD",
      items: [expect.objectContaining({ name: "Stoneware mug", quantity: 2, line_total: 3600 }), expect.objectContaining({ name: "Sencha, 100 g" })],
    });
  });

  it("queues the confirmation of an order inserted already paid with the lines written after it", async () => {
    const order = await createOrder({ amount_total: 4850, status: "paid", customer_email: "grace@example.com" });
    const [job] = await sql<{ data: { items: unknown[] } }[]>`
      select data from public.email_queue where idempotency_key = ${`order_confirmation:${order.id}`}`;
    expect(job.data.items).toHaveLength(2);
  });

  it("refuses a line without a product, a name, a positive quantity or an https image", async () => {
    const [order] = await sql<{ id: string }[]>`insert into public.orders (amount_total) values (100) returning id`;
    const line = { order_id: order.id, product_id: "p", name: "n", quantity: 1, unit_price: 100, currency: "usd" };
    for (const bad of [{ product_id: "" }, { name: "" }, { quantity: 0 }, { image_url: "http://cdn.example/x.png" }, { currency: "USD" }]) {
      await expect(sql`insert into public.order_items ${sql({ ...line, ...bad })}`, JSON.stringify(bad)).rejects.toThrow(/check constraint/);
    }
  });
});
