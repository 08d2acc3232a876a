import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDashboard } from "../../dev/dashboard/build.ts";
import { serveDashboard } from "../../dev/dashboard/serve.ts";
import { launchChromium, openPage, screenshot } from "../helpers/chromium.ts";
import { operationsClient } from "../helpers/operations.ts";
import { type OwnStack, startOwnStack } from "../helpers/own-stack.ts";
import { type Receiver, startReceiver } from "../helpers/receiver.ts";

// The operator dashboard in headless Chromium, built with Vite and served as npm start serves
// it, against a stack of its own: what an operator sees and clicks, checked on the page.
let own: OwnStack;
let browser: Browser;
let dashboard: { url: string; close(): Promise<void> };
let receiver: Receiver;
let buildDir: string;
const { call, source, sample, post } = operationsClient(() => own);

beforeAll(async () => {
  buildDir = mkdtempSync(join(tmpdir(), "dashboard-"));
  [own, browser, receiver] = await Promise.all([
    startOwnStack("dashboard-test", { LOG_LEVEL: "error", OPS_HEALTH_CACHE_SECONDS: "0" }),
    launchChromium(),
    startReceiver(),
    buildDashboard(buildDir, { url: "" }),
  ]) as [OwnStack, Browser, Receiver, void];
  dashboard = await serveDashboard(buildDir, 0, own.stack.env.SUPABASE_URL);
  await own.sql.unsafe(`
    create schema if not exists dash_test;
    create table if not exists dash_test.flags (name text primary key);
    create or replace function dash_test.picky(event jsonb, source jsonb) returns text
    language plpgsql set search_path = '' as $$
    begin
      if exists (select 1 from dash_test.flags where name = 'refuse') then raise exception 'carrier unknown'; end if;
      return 'accepted';
    end $$;`);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
  await receiver?.close();
  await own?.close();
  rmSync(buildDir, { recursive: true, force: true });
});

const adminJwt = (tenantId: string) =>
  new SignJWT({ role: "authenticated", app_metadata: { role: "admin", tenant_id: tenantId } })
    .setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("1h")
    .sign(new TextEncoder().encode(own.stack.env.SUPABASE_JWT_SECRET));

async function signedIn(token = own.stack.env.SUPABASE_SERVICE_ROLE_KEY, width = 1280): Promise<Page> {
  const page = await openPage(browser, width);
  page.on("pageerror", (error) => {
    throw error;
  });
  await page.goto(dashboard.url);
  await page.getByLabel("Service role key or admin JWT").fill(token);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByRole("navigation", { name: "Views" }).waitFor();
  return page;
}

/** Clicks `name`, then the confirmation dialog's button `confirm`. */
async function confirmed(page: Page, name: string | RegExp, confirm: string | RegExp) {
  await page.getByRole("button", { name }).first().click();
  const dialog = page.locator("dialog[open]");
  await dialog.waitFor();
  await dialog.getByRole("button", { name: confirm }).click();
}

const worker = (name: string, action: string) =>
  call("POST", name, { body: { action } });

describe("signing in", () => {
  it("refuses a bad key and stays on the sign-in page", async () => {
    const page = await openPage(browser);
    await page.goto(dashboard.url);
    await page.getByLabel("Service role key or admin JWT").fill("not-a-key");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => page.locator(".form-error").first().textContent()).toMatch(/invalid|expired|Bearer/i);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await screenshot(page, "01-bad-key-refused");
    await page.close();
  });

  it("signs in with the service role key, keeps it out of the URL, and signs out", async () => {
    const page = await signedIn();
    await page.locator(".cards .card").first().waitFor();
    expect(page.url()).not.toContain(own.stack.env.SUPABASE_SERVICE_ROLE_KEY);
    await screenshot(page, "02-overview-signed-in");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("Signed out.").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  });

  it("goes back to sign-in with a message when the key stops working", async () => {
    const page = await signedIn();
    await page.evaluate(() => sessionStorage.setItem("ops.credential", "expired.key.value"));
    await page.goto(`${dashboard.url}/#/events`);
    await page.getByRole("alert").filter({ hasText: /expired|invalid/i }).first().waitFor();
    await expect(page.getByLabel("Service role key or admin JWT")).toBeDefined();
    await screenshot(page, "03-expired-key");
    await page.close();
  });
});

describe("a failing source", () => {
  it("shows DEGRADED, lists its failed events, and recovers after retrying them", async () => {
    const failing = await source({ name: "carrier", handler: "dash_test.picky" });
    await own.sql`insert into dash_test.flags values ('refuse')`;
    for (let i = 0; i < 11; i++) expect(await post(await sample(failing))).toBe(500);
    await own.sql`delete from dash_test.flags`;

    const page = await signedIn();
    const card = page.locator(`.card[data-component="source:${failing.id}"]`);
    await expect.poll(() => card.locator(".badge").first().textContent()).toBe("DEGRADED");
    expect(await card.locator(".failing").textContent()).toContain("recent_failures");
    await screenshot(page, "04-overview-degraded");

    await card.getByRole("link", { name: "Events" }).click();
    await page.locator("tr[data-event]").first().waitFor();
    expect(await page.locator("tr[data-event]").count()).toBe(11);
    expect(await page.locator("tr[data-event] .badge").first().textContent()).toBe("failed");
    await screenshot(page, "05-failed-events");

    await page.locator("tr[data-event] a").first().click();
    await page.getByRole("heading", { name: /Payload/ }).waitFor();
    expect(await page.locator("pre.payload").textContent()).toContain('"type": "order.shipped"');
    await screenshot(page, "06-event-detail-failed");
    await confirmed(page, "Retry", "Retry");
    await expect.poll(() => page.locator("h1 .badge").textContent()).toBe("processed");
    await screenshot(page, "07-event-detail-retried");

    await page.goto(`${dashboard.url}/#/events?provider=source:${failing.id}&status=failed`);
    await expect.poll(() => page.locator("tr[data-event]").count()).toBe(10);
    await page.getByRole("button", { name: "Retry failed…" }).click();
    const dialog = page.locator("dialog[open]");
    await expect.poll(() => dialog.locator("h2").textContent()).toBe("Retry 10 event(s)?");
    await screenshot(page, "08-bulk-retry-confirm");
    await dialog.getByRole("button", { name: "Retry 10" }).click();
    await page.getByText("No events match these filters.").waitFor();

    await page.goto(`${dashboard.url}/#/overview`);
    await expect.poll(() => card.locator(".badge").first().textContent()).toBe("HEALTHY");
    await screenshot(page, "09-overview-recovered");
    await page.close();
  });
});

describe("email", () => {
  it("cancels a queued email after asking, with the recipient masked until clicked", async () => {
    await own.sql`select public.enqueue_email('password_reset', 'grace@example.com', ${own.sql.json({ reset_url: "https://shop.example/r" })}, ${randomUUID()})`;
    const page = await signedIn();
    await page.goto(`${dashboard.url}/#/emails?status=pending`);
    const row = page.locator("tr[data-email]").first();
    await row.waitFor();
    expect(await row.locator(".masked").textContent()).toBe("g***@example.com");
    await row.locator(".masked").click();
    expect(await row.locator(".masked").textContent()).toBe("grace@example.com");
    await confirmed(page, "Cancel", "Cancel email");
    await page.goto(`${dashboard.url}/#/emails?status=canceled`);
    await expect.poll(() => page.locator("tr[data-email] .badge").first().textContent()).toBe("canceled");
    await screenshot(page, "10-email-canceled");
    await page.close();
  });

  it("previews an email as its recipient sees it, in a sandboxed frame, with its text part", async () => {
    await own.sql`select public.enqueue_email('password_reset', 'preview@example.com', ${own.sql.json({ reset_url: "https://shop.example/r/preview" })}, ${randomUUID()})`;
    const page = await signedIn();
    await page.goto(`${dashboard.url}/#/emails?status=pending`);
    const row = page.locator("tr[data-email]", { hasText: "p***@example.com" }).first();
    await row.getByRole("button", { name: "Preview" }).click();
    const frame = page.locator("dialog iframe.email-preview");
    expect(await frame.getAttribute("sandbox")).toBe("");
    await expect.poll(() => frame.contentFrame().locator("a[href='https://shop.example/r/preview']").count()).toBeGreaterThan(0);
    await page.locator("dialog summary").click();
    expect(await page.locator("dialog pre.email-text").textContent()).toContain("https://shop.example/r/preview");
    await screenshot(page, "11-email-preview");
    await page.keyboard.press("Escape");
    await page.close();
  });
});

describe("partner endpoints", () => {
  it("replays a delivery, and the receiver gets it again", async () => {
    const created = await call("POST", "webhook-endpoints", { body: { url: receiver.url("/dash"), event_types: ["production.*"] } });
    expect(created.status).toBe(201);
    await own.sql`select public.publish_event('production.completed', null, ${own.sql.json({ order_id: randomUUID(), quantity: 3 })})`;
    await worker("webhook-dispatcher", "dispatch");
    expect(receiver.received("/dash")).toHaveLength(1);

    const page = await signedIn();
    await page.goto(`${dashboard.url}/#/endpoints`);
    await page.getByRole("link", { name: receiver.url("/dash") }).click();
    await page.locator("tr[data-delivery]").first().waitFor();
    await screenshot(page, "11-endpoint-deliveries");
    await confirmed(page, "Replay", "Replay");
    await page.getByText("Delivery queued again.").waitFor();
    await worker("webhook-dispatcher", "dispatch");
    expect(receiver.received("/dash")).toHaveLength(2);
    expect(receiver.received("/dash")[1].headers["webhook-id"]).toBe(receiver.received("/dash")[0].headers["webhook-id"]);
    await page.close();
  });
});

describe("a tenant's admin", () => {
  it("sees only that tenant's sources", async () => {
    const [mine, theirs] = [randomUUID(), randomUUID()];
    await source({ name: `ours-${randomBytes(3).toString("hex")}`, tenant_id: mine });
    const other = await source({ name: `theirs-${randomBytes(3).toString("hex")}`, tenant_id: theirs });
    const page = await signedIn(await adminJwt(mine));
    await page.goto(`${dashboard.url}/#/sources`);
    await page.locator("tr[data-source]").first().waitFor();
    const names = await page.locator("tr[data-source] td:first-child").allTextContents();
    expect(names.some((name) => name.startsWith("ours-"))).toBe(true);
    expect(names).not.toContain(other.id);
    expect(names.some((name) => name.startsWith("theirs-"))).toBe(false);
    expect(await page.locator(".who").textContent()).toBe(`Tenant ${mine}`);
    await screenshot(page, "12-tenant-sources");
    await page.close();
  });
});

describe("layout", () => {
  it("keeps the overview within a 390 px wide phone screen, and is usable from the keyboard", async () => {
    const page = await signedIn(own.stack.env.SUPABASE_SERVICE_ROLE_KEY, 390);
    await page.locator(".cards .card").first().waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    await screenshot(page, "13-overview-390px");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.close();
  });
});
