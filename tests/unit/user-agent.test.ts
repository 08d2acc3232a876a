import { beforeEach, describe, expect, it, vi } from "vitest";
import { parseUserAgent } from "../../supabase/functions/_shared/user-agent.ts";

// Counts the parser's runs, so the tests can see which calls the cache answered, and lets a test stand in a
// result the real parser never gives (names longer than the cap).
const parser = vi.hoisted(() => ({ runs: 0, result: undefined as Record<string, object> | undefined }));
vi.mock("ua-parser-js", async (importOriginal) => {
  const original = await importOriginal<typeof import("ua-parser-js")>();
  function CountingParser(userAgent?: string) {
    parser.runs++;
    const result = parser.result;
    return result ? { getResult: () => result } : new original.UAParser(userAgent);
  }
  return { ...original, UAParser: CountingParser };
});

const UA = {
  windowsChrome:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  windowsEdge:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
  linuxFirefox: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
  iPhoneSafari:
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
  iPad:
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
  androidChrome:
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
  androidTablet:
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
  samsungTv:
    "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/4.0 Chrome/76.0.3809.146 TV Safari/537.36",
  playStation5:
    "Mozilla/5.0 (PlayStation; PlayStation 5/2.26) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.0 Safari/605.1.15",
  galaxyWatch:
    "Mozilla/5.0 (Linux; Android 11; SM-R890) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/103.0.0.0 Mobile Safari/537.36",
  tesla:
    "Mozilla/5.0 (X11; GNU/Linux) AppleWebKit/537.36 (KHTML, like Gecko) Chromium/79.0.3945.130 Chrome/79.0.3945.130 Safari/537.36 Tesla/2022.16.1-abc",
  googlebot: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  googlebotSmartphone:
    "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  headlessChrome:
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
  facebookPreview: "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
  slackPreview: "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
  curl: "curl/8.5.0",
  wget: "Wget/1.21.4",
  pythonRequests: "python-requests/2.31.0",
  goClient: "Go-http-client/2.0",
};

describe("parseUserAgent: devices", () => {
  it.each([
    ["desktop Chrome on Windows", UA.windowsChrome, { device: "desktop", browser: "Chrome", os: "Windows" }],
    ["desktop Edge on Windows", UA.windowsEdge, { device: "desktop", browser: "Edge", os: "Windows" }],
    ["desktop Firefox on Linux", UA.linuxFirefox, { device: "desktop", browser: "Firefox", os: "Linux" }],
    ["Safari on an iPhone", UA.iPhoneSafari, { device: "mobile", browser: "Mobile Safari", os: "iOS" }],
    ["Safari on an iPad", UA.iPad, { device: "tablet", browser: "Mobile Safari", os: "iOS" }],
    ["Chrome on an Android phone", UA.androidChrome, { device: "mobile", browser: "Chrome", os: "Android" }],
    ["Chrome on an Android tablet", UA.androidTablet, { device: "tablet", browser: "Chrome", os: "Android" }],
    ["a Samsung smart TV", UA.samsungTv, { device: "tv", browser: "Samsung Internet", os: "Tizen" }],
    ["a PlayStation 5", UA.playStation5, { device: "console", browser: "Safari", os: "PlayStation" }],
    ["a Galaxy Watch (wearable)", UA.galaxyWatch, { device: "other", browser: "Chrome", os: "Android" }],
    ["a Tesla (embedded)", UA.tesla, { device: "other", browser: "Tesla", os: "Linux" }],
  ])("recognises %s", (_label, userAgent, expected) => {
    expect(parseUserAgent(userAgent)).toEqual(expected);
  });

  it("is unknown when the parser recognises neither a device nor a browser", () => {
    expect(parseUserAgent("okhttp/4.12.0")).toEqual({ device: "unknown", browser: null, os: null });
    expect(parseUserAgent("hello world")).toEqual({ device: "unknown", browser: null, os: null });
  });

  it.each([
    ["a missing header", undefined],
    ["a null header", null],
    ["an empty header", ""],
    ["a blank header", "   "],
  ])("is unknown for %s", (_label, userAgent) => {
    expect(parseUserAgent(userAgent)).toEqual({ device: "unknown", browser: null, os: null });
  });
});

describe("parseUserAgent: bots", () => {
  it.each([
    ["Googlebot", UA.googlebot],
    ["Googlebot's smartphone crawler, which looks like Android Chrome", UA.googlebotSmartphone],
    ["headless Chrome", UA.headlessChrome],
    ["Facebook's link preview", UA.facebookPreview],
    ["Slack's link preview", UA.slackPreview],
    ["curl", UA.curl],
    ["wget", UA.wget],
    ["python-requests", UA.pythonRequests],
    ["Go's HTTP client", UA.goClient],
    ["Lighthouse", `${UA.androidChrome} Chrome-Lighthouse`],
    ["a generic spider", "ExampleSpider/1.0"],
    ["Yahoo Slurp", "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)"],
  ])("counts %s as a bot", (_label, userAgent) => {
    expect(parseUserAgent(userAgent).device).toBe("bot");
  });
});

describe("parseUserAgent: limits and cache", () => {
  beforeEach(() => {
    parser.runs = 0;
  });

  it("caps browser and OS names at 64 characters", () => {
    parser.result = { browser: { name: "B".repeat(100) }, os: { name: "O".repeat(100) }, device: {} };
    try {
      expect(parseUserAgent("Mozilla/5.0 long-names")).toEqual({
        device: "desktop",
        browser: "B".repeat(64),
        os: "O".repeat(64),
      });
    } finally {
      parser.result = undefined;
    }
  });

  it("looks only at the first 512 characters", () => {
    const padded = `${UA.windowsChrome} ${"x".repeat(600)}`;
    expect(parseUserAgent(`${padded} Googlebot/2.1`)).toEqual({ device: "desktop", browser: "Chrome", os: "Windows" });
    expect(parseUserAgent(`${padded} something else`)).toEqual({ device: "desktop", browser: "Chrome", os: "Windows" });
    expect(parser.runs).toBe(1);
  });

  it("parses a string once while it stays among the last 1,000", () => {
    const userAgent = `${UA.iPhoneSafari} cache-hit`;
    for (let i = 0; i < 50; i++) parseUserAgent(userAgent);
    expect(parser.runs).toBe(1);
  });

  it("evicts the least recently used string once 1,000 others are cached", () => {
    const kept = `${UA.windowsChrome} kept`;
    const filler = (i: number) => `${UA.linuxFirefox} filler-${i}`;
    parseUserAgent(kept);
    for (let i = 0; i < 999; i++) parseUserAgent(filler(i));
    parseUserAgent(kept); // a hit makes it the most recently used
    parseUserAgent(filler(999)); // evicts filler 0, the oldest
    expect(parser.runs).toBe(1_001);
    parseUserAgent(kept);
    expect(parser.runs).toBe(1_001);
    parseUserAgent(filler(0));
    expect(parser.runs).toBe(1_002);
  });

  it("returns a copy, so a caller's change does not reach the next caller", () => {
    const userAgent = `${UA.androidChrome} copy`;
    const first = parseUserAgent(userAgent);
    first.device = "bot";
    first.browser = "changed";
    expect(parseUserAgent(userAgent)).toEqual({ device: "mobile", browser: "Chrome", os: "Android" });
  });
});
