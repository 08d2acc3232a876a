import { mkdirSync } from "node:fs";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { type Browser, chromium as playwright, type Page } from "playwright-core";

/** Where browser tests leave their screenshots (git-ignored), so a failure can be looked at. */
export const SCREENSHOTS = join(import.meta.dirname, "..", "..", "test-results", "screenshots");

/**
 * Headless Chromium from the npm package @sparticuz/chromium (the binary ships inside it, so
 * `npm install` alone brings it: no system package, no download), driven by playwright-core.
 */
export async function launchChromium(): Promise<Browser> {
  return await playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}

/**
 * A page as an operator's browser opens it. The locale is set: the sandbox's POSIX locale
 * (en-US@posix) is not a language tag Intl accepts, which no real browser sends.
 */
export async function openPage(browser: Browser, width = 1280, height = 900): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, locale: "en-US" });
  return await context.newPage();
}

/** Saves a full-page screenshot as test-results/screenshots/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
