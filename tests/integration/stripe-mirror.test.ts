import { randomUUID } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { serveFunction } from "../../dev/stack/functions.ts";
import { stripeId } from "../../dev/stripe/fixtures.ts";
import { postStripe, stack, testSql } from "../helpers/stack.ts";

// The Stripe mirror, through stripe-webhook: each object type created, updated and deleted,
// the position guard (same second in both orders, late and old events), concurrent copies.
const sql = testSql();
const now = Math.floor(Date.now() / 1000);
const served: { stop(): Promise<void> }[] = [];
afterAll(() => Promise.all(served.map((fn) => fn.stop())));

function event(type: string, object: Record<string, unknown>, created = now, id = stripeId("evt")) {
  return { id, object: "event", type, created, livemode: false, api_version: "2025-09-30.clover", data: { object } };
}

async function send(e: ReturnType<typeof event>, url?: string) {
  const answer = await postStripe(e, { url });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as { status: string; outcome: string; duplicate: boolean };
}

const row = async (table: string, id: string) => {
  const [found] = await sql.unsafe(`select * from public.${table} where id = $1`, [id]);
  return found;
};

// A realistic object of each mirrored type, and the event types that create, update and delete it.
const customer = (id: string, name: string) => ({ id, object: "customer", email: null, name, created: now, metadata: {} });

const PREFIX: Record<string, string> = {
  stripe_customers: "cus", stripe_products: "prod", stripe_prices: "price", stripe_subscriptions: "sub",
  stripe_invoices: "in", stripe_charges: "ch", stripe_refunds: "re", stripe_disputes: "dp", stripe_payment_intents: "pi",
};

const KINDS: { table: string; events: [string, string, string | null]; make: (id: string, v: number) => Record<string, unknown> }[] = [
  { table: "stripe_customers", events: ["customer.created", "customer.updated", "customer.deleted"],
    make: (id, v) => ({ id, object: "customer", email: `v${v}@example.com`, name: `Ada ${v}`, created: now, metadata: {} }) },
  { table: "stripe_products", events: ["product.created", "product.updated", "product.deleted"],
    make: (id, v) => ({ id, object: "product", name: `Mug v${v}`, active: true, created: now, metadata: {} }) },
  { table: "stripe_prices", events: ["price.created", "price.updated", "price.deleted"],
    make: (id, v) => ({ id, object: "price", product: "prod_x", currency: "eur", unit_amount: 1000 * v, active: true, recurring: null, created: now }) },
  { table: "stripe_subscriptions", events: ["customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted"],
    make: (id, v) => ({ id, object: "subscription", customer: "cus_x", status: v === 1 ? "active" : "past_due", cancel_at_period_end: false,
      current_period_end: now + 86400 * v, created: now, metadata: {},
      items: { object: "list", data: [{ id: `si_${id}`, object: "subscription_item", price: { id: "price_x" }, quantity: v }] } }) },
  { table: "stripe_invoices", events: ["invoice.created", "invoice.updated", "invoice.deleted"],
    make: (id, v) => ({ id, object: "invoice", customer: "cus_x", status: v === 1 ? "draft" : "open", currency: "eur",
      amount_due: 500 * v, amount_paid: 0, created: now,
      lines: { object: "list", data: [{ id: `il_${id}`, object: "line_item", amount: 500 * v, currency: "eur", description: "Mug" }] } }) },
  { table: "stripe_charges", events: ["charge.succeeded", "charge.updated", null],
    make: (id, v) => ({ id, object: "charge", customer: "cus_x", payment_intent: "pi_x", currency: "eur", amount: 4200,
      amount_refunded: v === 1 ? 0 : 4200, status: "succeeded", refunded: v !== 1, created: now, metadata: {} }) },
  { table: "stripe_refunds", events: ["refund.created", "refund.updated", null],
    make: (id, v) => ({ id, object: "refund", charge: "ch_x", payment_intent: "pi_x", currency: "eur", amount: 4200,
      status: v === 1 ? "pending" : "succeeded", created: now }) },
  { table: "stripe_disputes", events: ["charge.dispute.created", "charge.dispute.updated", null],
    make: (id, v) => ({ id, object: "dispute", charge: "ch_x", payment_intent: "pi_x", currency: "eur", amount: 4200,
      status: v === 1 ? "needs_response" : "under_review", reason: "fraudulent", created: now, metadata: {} }) },
  { table: "stripe_payment_intents", events: ["payment_intent.created", "payment_intent.processing", null],
    make: (id, v) => ({ id, object: "payment_intent", customer: "cus_x", currency: "eur", amount: 4200,
      status: v === 1 ? "requires_payment_method" : "processing", created: now, metadata: {} }) },
];

describe.each(KINDS)("$table", ({ table, events: [created, updated, deleted], make }) => {
  it("is created, updated and (where Stripe deletes it) marked deleted, from its events", async () => {
    const id = `${PREFIX[table]}_${randomUUID().replace(/-/g, "")}`;
    const first = await send(event(created, make(id, 1), now - 20));
    expect(first.outcome).toMatch(new RegExp(`^mirrored:${table}$|^(ignored|unmatched|subscription|stored)`));
    expect((await row(table, id)).object).toEqual(make(id, 1));
    await send(event(updated, make(id, 2), now - 10));
    const after = await row(table, id);
    expect(after.object).toEqual(make(id, 2));
    expect(after.deleted).toBe(false);
    if (deleted) {
      await send(event(deleted, make(id, 2), now));
      expect((await row(table, id)).deleted).toBe(true);
    }
  });
});

describe("typed columns and children", () => {
  it("are generated from the object, and a subscription's items and an invoice's lines follow it", async () => {
    const sub = `sub_${randomUUID().replace(/-/g, "")}`;
    const userId = randomUUID();
    await send(event("customer.subscription.created", {
      ...KINDS[3].make(sub, 1), metadata: { user_id: userId },
    }));
    const [subscription] = await sql`
      select customer, status, cancel_at_period_end, user_id, current_period_end from public.stripe_subscriptions where id = ${sub}`;
    expect(subscription).toMatchObject({ customer: "cus_x", status: "active", cancel_at_period_end: false, user_id: userId });
    expect(await sql`select id, price, quantity from public.stripe_subscription_items where subscription = ${sub}`)
      .toEqual([{ id: `si_${sub}`, price: "price_x", quantity: "1" }]);
    await send(event("customer.subscription.updated", { ...KINDS[3].make(sub, 3), items: { object: "list", data: [] } }, now + 1));
    expect(await sql`select id from public.stripe_subscription_items where subscription = ${sub}`).toEqual([]);
  });
});

describe("the position guard", () => {
  it("ends two updates of the same second the same way, whichever arrives first", async () => {
    const [x, y] = [`cus_${randomUUID().slice(0, 8)}x`, `cus_${randomUUID().slice(0, 8)}y`];
    const ids = [`evt_same_${randomUUID().slice(0, 8)}_a`, `evt_same_${randomUUID().slice(0, 8)}_b`].sort();
    const make = (target: string, index: number) => event("customer.updated", customer(target, `name ${index}`), now, `${ids[index]}_${target}`.replace(/[^A-Za-z0-9_]/g, "_"));
    await send(make(x, 0));
    await send(make(x, 1));
    await send(make(y, 1));
    const stale = await send(make(y, 0));
    expect(stale.outcome).toBe("stale:stripe_customers");
    expect([(await row("stripe_customers", x)).name, (await row("stripe_customers", y)).name]).toEqual(["name 1", "name 1"]);
  });

  it("refuses an event older than the one that last wrote the row", async () => {
    const id = `cus_${randomUUID().slice(0, 12)}`;
    await send(event("customer.updated", customer(id, "newer"), now));
    const old = await send(event("customer.updated", customer(id, "older"), now - 3600));
    expect(old).toMatchObject({ status: "processed", outcome: "stale:stripe_customers" });
    expect((await row("stripe_customers", id)).name).toBe("newer");
  });

  it("keeps a deleted product deleted when its older update arrives late, while its price updates", async () => {
    const product = `prod_${randomUUID().slice(0, 12)}`;
    const price = `price_${randomUUID().slice(0, 12)}`;
    const productObject = { id: product, object: "product", name: "Mug", active: true, created: now, metadata: {} };
    await send(event("product.created", productObject, now - 100));
    await send(event("product.deleted", productObject, now));
    const late = await send(event("product.updated", { ...productObject, name: "Mug (renamed)" }, now - 50));
    expect(late.outcome).toBe("stale:stripe_products");
    await send(event("price.updated", { id: price, object: "price", product, currency: "eur", unit_amount: 900, active: false, created: now }, now - 40));
    expect(await row("stripe_products", product)).toMatchObject({ deleted: true, name: "Mug" });
    expect(await row("stripe_prices", price)).toMatchObject({ product, unit_amount: "900", active: false });
  });

  it("applies exactly one of 25 concurrent copies of one event", async () => {
    const id = `cus_${randomUUID().slice(0, 12)}`;
    const copy = event("customer.created", customer(id, "once"));
    const answers = await Promise.all(Array.from({ length: 25 }, () => postStripe(copy)));
    expect(answers.map((a) => a.status)).toEqual(Array(25).fill(200));
    expect(answers.filter((a) => !a.body.duplicate)).toHaveLength(1);
    expect(await row("stripe_customers", id)).toMatchObject({ name: "once", last_event_id: copy.id });
  });
});

describe("STRIPE_MIRROR", () => {
  it("leaves the types it does not name ignored, as before", async () => {
    const env = { ...stack, SUPABASE_DB_URL: stack.DATABASE_URL, LOG_LEVEL: "error", STRIPE_MIRROR: "invoices" } as Record<string, string>;
    const fn = await serveFunction("stripe-webhook", env, () => {});
    served.push(fn);
    const id = `cus_${randomUUID().slice(0, 12)}`;
    const answer = await send(event("customer.created", customer(id, "not mirrored")), `http://127.0.0.1:${fn.port}/stripe-webhook`);
    expect(answer).toMatchObject({ status: "ignored", outcome: "ignored" });
    expect(await row("stripe_customers", id)).toBeUndefined();
  });
});
