import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page, Route } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ORDER_MANY_ITEMS, SAMPLE_BRAND, SAMPLES } from "../../dev/email/samples.ts";
import { type EmailTemplate, renderTemplate } from "../../supabase/functions/_shared/email/render.ts";
import { emailQueue } from "../../supabase/functions/email-service/queue.ts";
import { launchChromium, openPage, screenshot } from "../helpers/chromium.ts";
import { testSql } from "../helpers/stack.ts";

// Each default email (html part, from the database as the drain loads it) in headless
// Chromium at a desktop client's 600 px and a phone's 320 px: nothing may stick out sideways,
// which is what a fixed width, an unwrapped URL or a wide image would do. With
// UPDATE_DOCS_SCREENSHOTS=1 the 600 px screenshots also replace the README's pictures
// (docs/email/<key>.png); otherwise a test run leaves the tracked files alone.
const sql = testSql();
const KEYS = ["order_confirmation", "payment_failed", "refund_issued", "password_reset", "quote_submitted"];
const WIDTHS = [600, 320];
const DOCS = join(import.meta.dirname, "..", "..", "docs", "email");
let browser: Browser;
let stored: Map<string, EmailTemplate>;

beforeAll(async () => {
  [browser, stored] = await Promise.all([launchChromium(), emailQueue(sql).templates(KEYS)]);
  if (process.env.UPDATE_DOCS_SCREENSHOTS === "1") mkdirSync(DOCS, { recursive: true });
}, 120_000);

afterAll(() => browser?.close());

// The sandbox has no network: the brand's logo and the products' pictures are drawn here, at
// the sizes a shop would upload them (wider than the email, so the layout must shrink them).
function picture(route: Route) {
  const url = route.request().url();
  const svg = url.endsWith("/logo.png")
    ? `<svg xmlns="http://www.w3.org/2000/svg" width="560" height="96" viewBox="0 0 560 96"><rect width="96" height="96" rx="20" fill="#2563eb"/><text x="116" y="64" font-family="Helvetica, Arial, sans-serif" font-size="44" font-weight="700" fill="#111827">${SAMPLE_BRAND.shop_name}</text></svg>`
    : `<svg xmlns="http://www.w3.org/2000/svg" width="800" height="800" viewBox="0 0 800 800"><rect width="800" height="800" fill="#dbeafe"/><circle cx="400" cy="400" r="220" fill="#93c5fd"/></svg>`;
  return route.fulfill({ status: 200, contentType: "image/svg+xml", body: svg });
}

async function openEmail(html: string, width: number): Promise<Page> {
  // Short, so that a full-page screenshot is as tall as the email and no taller.
  const page = await openPage(browser, width, 400);
  await page.route(/^https?:\/\//, picture);
  await page.setContent(html, { waitUntil: "load" });
  return page;
}

/** What sticks out past the viewport's right edge: the page's scroll width and each element's tag and right edge. */
function overflow(page: Page) {
  return page.evaluate(() => {
    const width = innerWidth;
    const offenders = [...document.body.querySelectorAll("*")]
      .map((el) => ({ el, right: el.getBoundingClientRect().right }))
      .filter(({ right }) => right > width + 0.5)
      .map(({ el, right }) =>
        `${el.tagName.toLowerCase()}${el.className ? `.${el.className}` : ""} → ${Math.round(right)} px`
      );
    return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width, offenders };
  });
}

/** A twelve-line order whose first product has a name with no place to break. */
const LONG_WORDS = {
  ...ORDER_MANY_ITEMS,
  items: (ORDER_MANY_ITEMS.items as Record<string, unknown>[]).map((item, i) =>
    i === 0 ? { ...item, name: `Extraordinarily${"long".repeat(12)}productname-without-spaces` } : item
  ),
};

const cases: [string, string, Record<string, unknown>][] = [
  ...KEYS.map((key): [string, string, Record<string, unknown>] => [key, key, SAMPLES[key]]),
  ["order_confirmation-long", "order_confirmation", LONG_WORDS],
];

describe("the default emails in Chromium", () => {
  for (const [name, key, data] of cases) {
    for (const width of WIDTHS) {
      it(`${name} fits ${width} px without horizontal overflow`, async () => {
        const template = stored.get(key);
        expect(template, key).toBeTruthy();
        const { html } = renderTemplate({ ...template!, brand: SAMPLE_BRAND }, data);
        const page = await openEmail(html, width);
        try {
          const measured = await overflow(page);
          expect(measured.offenders).toEqual([]);
          expect(measured.scrollWidth).toBeLessThanOrEqual(measured.innerWidth);
          // The card is as wide as the body allows: 600 px at most, the viewport less its margins below.
          const card = await page.locator("td.email-card").boundingBox();
          expect(card!.width).toBeLessThanOrEqual(600);
          expect(card!.width).toBeGreaterThanOrEqual(Math.min(600, width) - 40);
          // Images shrink to their cell: none wider than the card.
          const images = await page.locator("img").evaluateAll((imgs) =>
            imgs.map((img) => ({
              complete: (img as HTMLImageElement).complete,
              width: img.getBoundingClientRect().width,
            }))
          );
          for (const image of images) {
            expect(image.complete).toBe(true);
            expect(image.width).toBeLessThanOrEqual(card!.width);
          }
          await screenshot(page, `email-${name}-${width}`);
          if (width === 600 && name === key && process.env.UPDATE_DOCS_SCREENSHOTS === "1") {
            await page.screenshot({ path: join(DOCS, `${key}.png`), fullPage: true });
          }
          // Where the client honours prefers-color-scheme (Apple Mail, Outlook.com), the dark palette.
          await page.emulateMedia({ colorScheme: "dark" });
          const dark = await page.locator("td.email-card").evaluate((td) => getComputedStyle(td).backgroundColor);
          expect(dark).toBe("rgb(31, 41, 55)");
          await screenshot(page, `email-${name}-${width}-dark`);
        } finally {
          await page.close();
        }
      });
    }
  }
});
