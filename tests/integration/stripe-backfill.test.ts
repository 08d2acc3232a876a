import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseBackfillArgs } from "../../dev/stripe/backfill/args.ts";
import { stripeClient } from "../../dev/stripe/backfill/lists.ts";
import { type BackfillOptions, BackfillUsageError, runBackfill, type TypeProgress } from "../../dev/stripe/backfill/run.ts";
import { stripeId } from "../../dev/stripe/fixtures.ts";
import { type StandInObject, startStripeStandIn, type StripeStandIn } from "../../dev/stripe/stand-in.ts";
import { postStripe, stack, testSql } from "../helpers/stack.ts";

// npm run stripe:backfill against the Stripe stand-in and the shared test stack: pagination,
// --since, --objects, 429s, resuming, and events that arrive while a backfill runs. The backfill
// writes only the objects it lists, and every test lists objects with fresh ids.
const sql = testSql();
const run = promisify(execFile);
const now = Math.floor(Date.now() / 1000);
let standIn: StripeStandIn;
let stripe: ReturnType<typeof stripeClient>;

beforeAll(async () => {
  standIn = await startStripeStandIn();
  // No SDK retries: an injected 5xx is an interruption here, not something to wait out.
  stripe = stripeClient("sk_test_backfill", standIn.url, 0);
});
afterAll(() => standIn.close());
beforeEach(() => standIn.reset());

/** `count` customers created one second apart, oldest `since` seconds ago. */
const customers = (count: number, ago = 3600, name = "listed") =>
  Array.from({ length: count }, (_, i): StandInObject => ({
    id: stripeId("cus"), object: "customer", email: null, name: `${name} ${i}`, created: now - ago + i, metadata: {},
  }));

/** Runs the backfill with a fixed snapshot clock and no real waiting; returns its lines and waits. */
async function backfill(options: Partial<BackfillOptions> = {}) {
  const lines: string[] = [];
  const waits: number[] = [];
  const results = await runBackfill({
    stripe, sql, objects: ["customers"], restart: true, now: () => now - 10,
    log: (line) => lines.push(line), sleep: (ms) => Promise.resolve(void waits.push(ms)), ...options,
  });
  return { results, lines, waits };
}

const mirrored = async (ids: string[]) =>
  await sql`select id, name, deleted, last_event_created, last_event_rank, last_event_id
            from public.stripe_customers where id = any(${ids}) order by id`;

const progress = async (type: string) =>
  (await sql`select * from public.stripe_backfill_progress where object_type = ${type}`)[0];

function event(type: string, object: Record<string, unknown>, created: number) {
  return { id: stripeId("evt"), object: "event", type, created, livemode: false, api_version: "2025-09-30.clover", data: { object } };
}

async function send(e: ReturnType<typeof event>) {
  const answer = await postStripe(e);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as { outcome: string };
}

describe("stripe:backfill", () => {
  it("lists every page and writes each object at the listing's snapshot position", async () => {
    const seeded = customers(250);
    standIn.seed("customers", seeded);
    const { results, lines } = await backfill();
    expect(lines).toEqual([
      "customers: 100 listed, 100 written, 0 kept newer",
      "customers: 200 listed, 200 written, 0 kept newer",
      "customers: 250 listed, 250 written, 0 kept newer",
    ]);
    expect(results).toEqual([{ name: "customers", listed: 250, written: 250, keptNewer: 0, startedAt: now - 10, resumed: false }]);
    const rows = await mirrored(seeded.map((c) => c.id));
    expect(rows).toHaveLength(250);
    expect(new Set(rows.map((r) => `${r.last_event_created}/${r.last_event_rank}/${r.last_event_id}/${r.deleted}`)))
      .toEqual(new Set([`${now - 10}/1//false`]));
    expect(new Set(standIn.served("customers")).size).toBe(250);
    expect(await progress("customers")).toMatchObject({ listed: 250, written: 250, finished_at: expect.any(Date) });

    // The same snapshot second again writes nothing: the rows already hold that position.
    const again = await backfill();
    expect(again.results[0]).toMatchObject({ listed: 250, written: 0, keptNewer: 250 });
  });

  it("lists only objects created since --since", async () => {
    const old = customers(3, 7200);
    const recent = customers(2, 60);
    standIn.seed("customers", [...old, ...recent]);
    const { results } = await backfill({ since: new Date((now - 600) * 1000) });
    expect(results[0]).toMatchObject({ listed: 2, written: 2 });
    expect((await mirrored([...old, ...recent].map((c) => c.id))).map((r) => r.id)).toEqual(recent.map((c) => c.id).sort());
    expect((await progress("customers")).since).toEqual(new Date((now - 600) * 1000));
  });

  it("backfills only the --objects chosen, canceled subscriptions and inactive prices included", async () => {
    const [customer] = customers(1);
    const product = { id: stripeId("prod"), object: "product", name: "Mug", active: false, created: now - 100, metadata: {} };
    const price = { id: stripeId("price"), object: "price", product: product.id, currency: "eur", unit_amount: 1200, active: false, recurring: null, created: now - 90 };
    const subscription = (status: string): StandInObject => {
      const id = stripeId("sub");
      return { id, object: "subscription", customer: customer.id, status, cancel_at_period_end: false, current_period_end: now + 86400,
        created: now - 80, metadata: {}, items: { object: "list", data: [{ id: `si_${id.slice(4)}`, object: "subscription_item", price: { id: price.id }, quantity: 2 }] } };
    };
    const [active, canceled] = [subscription("active"), subscription("canceled")];
    standIn.seed("customers", [customer]);
    standIn.seed("products", [product]);
    standIn.seed("prices", [price]);
    standIn.seed("subscriptions", [active, canceled]);

    const { results } = await backfill({ objects: ["products", "prices", "subscriptions"] });
    expect(results.map((r) => [r.name, r.written])).toEqual([["products", 1], ["prices", 1], ["subscriptions", 2]]);
    expect(await mirrored([customer.id])).toEqual([]);
    expect(standIn.served("customers")).toEqual([]);
    expect((await sql`select active from public.stripe_prices where id = ${price.id}`)[0].active).toBe(false);
    // A canceled subscription is what customer.subscription.deleted leaves: marked deleted, as that event marks it.
    expect(await sql`select id, status, deleted from public.stripe_subscriptions where id in ${sql([active.id, canceled.id])} order by status`)
      .toEqual([{ id: active.id, status: "active", deleted: false }, { id: canceled.id, status: "canceled", deleted: true }]);
    expect(await sql`select price, quantity from public.stripe_subscription_items where subscription = ${active.id}`)
      .toEqual([{ price: price.id, quantity: "2" }]);
  });

  it("waits out 429s (the SDK does not retry them) and completes without listing anything twice", async () => {
    const seeded = customers(250);
    standIn.seed("customers", seeded);
    standIn.injectFailures({ status: 429, count: 3, after: 1 });
    const { results, lines, waits } = await backfill();
    expect(waits).toEqual([1000, 2000, 4000]);
    expect(lines).toContain("customers: rate limited (429), retrying in 1000 ms (1/8)");
    expect(standIn.statuses()).toEqual([200, 429, 429, 429, 200, 200]);
    expect(results[0]).toMatchObject({ listed: 250, written: 250 });
    expect(standIn.served("customers")).toEqual(seeded.map((c) => c.id).reverse());
    expect(await mirrored(seeded.map((c) => c.id))).toHaveLength(250);

    standIn.injectFailures({ status: 429, count: 10 });
    await expect(backfill({ rateLimitRetries: 2 })).rejects.toMatchObject({ statusCode: 429 });
  });

  it("resumes an interrupted run after its last page, at the same snapshot position", async () => {
    const seeded = customers(250);
    standIn.seed("customers", seeded);
    standIn.injectFailures({ status: 500, count: Infinity, after: 2 });
    await expect(backfill()).rejects.toMatchObject({ statusCode: 500 });
    expect(await progress("customers")).toMatchObject({ listed: 200, written: 200, last_id: seeded[50].id, finished_at: null });
    expect(await mirrored(seeded.map((c) => c.id))).toHaveLength(200);

    standIn.clearFailures();
    // A different --since than the interrupted run's is refused, not silently mixed in.
    await expect(backfill({ restart: false, since: new Date(0) })).rejects.toBeInstanceOf(BackfillUsageError);
    const resumed = await backfill({ restart: false, now: () => now });
    expect(resumed.lines).toEqual([
      `customers: resuming after ${seeded[50].id} (200 listed so far, snapshot at ${new Date((now - 10) * 1000).toISOString()})`,
      "customers: 250 listed, 250 written, 0 kept newer",
    ]);
    expect(resumed.results[0]).toMatchObject({ listed: 250, written: 250, startedAt: now - 10, resumed: true });
    expect(standIn.served("customers")).toEqual(seeded.map((c) => c.id).reverse());
    const rows = await mirrored(seeded.map((c) => c.id));
    expect(rows).toHaveLength(250);
    expect(new Set(rows.map((r) => Number(r.last_event_created)))).toEqual(new Set([now - 10]));

    // Finished: the next run starts a new snapshot instead of resuming.
    expect((await backfill({ restart: false, now: () => now })).results[0]).toMatchObject({ resumed: false, startedAt: now, written: 250 });
  });

  it("keeps what an event newer than the listing's start wrote, and overwrites an older event's", async () => {
    const seeded = customers(150);
    standIn.seed("customers", seeded);
    // Newest first: page 1 holds seeded[149..50], page 2 seeded[49..0].
    const onPage1 = seeded[120];
    const [newer, older] = [seeded[10], seeded[20]];
    const started = now - 10;
    const outcomes: string[] = [];
    const { results } = await backfill({
      onPage: async (page: TypeProgress) => {
        if (page.listed !== 100) return;
        // Arrive after page 1 is written and before page 2 is listed: the same second as the
        // snapshot (the event id sorts after the backfill's ''), one second later, one minute older.
        outcomes.push((await send(event("customer.updated", { ...onPage1, name: "event, same second" }, started))).outcome);
        outcomes.push((await send(event("customer.updated", { ...newer, name: "event, newer" }, started + 1))).outcome);
        outcomes.push((await send(event("customer.updated", { ...older, name: "event, older" }, started - 60))).outcome);
      },
    });
    expect(outcomes).toEqual(["mirrored:stripe_customers", "mirrored:stripe_customers", "mirrored:stripe_customers"]);
    expect(results[0]).toMatchObject({ listed: 150, written: 149, keptNewer: 1 });
    const byId = new Map((await mirrored([onPage1.id, newer.id, older.id])).map((r) => [r.id, r]));
    expect(byId.get(onPage1.id)).toMatchObject({ name: "event, same second", last_event_created: String(started), last_event_rank: 1 });
    expect(byId.get(newer.id)).toMatchObject({ name: "event, newer", last_event_created: String(started + 1) });
    expect(byId.get(older.id)).toMatchObject({ name: older.name, last_event_created: String(started), last_event_id: "" });

    // An old event after the (newer) backfill changes nothing.
    const late = seeded[30];
    expect((await send(event("customer.updated", { ...late, name: "late" }, started - 5))).outcome).toBe("stale:stripe_customers");
    expect((await mirrored([late.id]))[0]).toMatchObject({ name: late.name, last_event_id: "" });
  });
});

describe("the command line", () => {
  it("parses options and refuses what it cannot use", () => {
    expect(parseBackfillArgs([])).toMatchObject({ kind: "run", args: { objects: expect.arrayContaining(["customers", "payment_intents"]), restart: false } });
    expect(parseBackfillArgs(["--objects", "customers, disputes", "--since", "2026-01-31", "--restart"])).toEqual({
      kind: "run", args: { objects: ["customers", "disputes"], since: new Date("2026-01-31T00:00:00Z"), restart: true, databaseUrl: undefined },
    });
    expect(parseBackfillArgs(["--since", "2026-01-31T12:30"])).toMatchObject({ args: { since: new Date("2026-01-31T12:30:00Z") } });
    expect(parseBackfillArgs(["--objects", "customers,coupons"])).toMatchObject({ kind: "usage_error", message: expect.stringContaining("coupons") });
    expect(parseBackfillArgs(["--since", "yesterday"])).toMatchObject({ kind: "usage_error" });
    expect(parseBackfillArgs(["--since", "1"])).toMatchObject({ kind: "usage_error" });
    expect(parseBackfillArgs(["--bogus"])).toMatchObject({ kind: "usage_error" });
    expect(parseBackfillArgs(["-h"])).toEqual({ kind: "help" });
  });

  it("runs as npm run stripe:backfill does, against the stand-in", async () => {
    const seeded = customers(3);
    standIn.seed("customers", seeded);
    const { stdout } = await run("npx", ["tsx", "dev/stripe/backfill.ts", "--objects", "customers", "--restart"], {
      env: { ...process.env, DATABASE_URL: stack.DATABASE_URL, STRIPE_SECRET_KEY: "sk_test_cli", STRIPE_API_BASE: standIn.url },
    });
    expect(stdout).toContain("customers: 3 listed, 3 written, 0 kept newer");
    expect(stdout).toMatch(/backfill finished in [\d.]+ s: 3 listed, 3 written, 0 kept newer/);
    expect(await mirrored(seeded.map((c) => c.id))).toHaveLength(3);
  });
});
