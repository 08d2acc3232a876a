// @ts-types="npm:@types/ua-parser-js@0.7.39"
import { UAParser } from "ua-parser-js";

/** The kind of device an event came from; "bot" for crawlers and scripts, whatever they claim to be. */
export type Device = "desktop" | "mobile" | "tablet" | "bot" | "tv" | "console" | "other" | "unknown";

/** What an analytics row keeps from a User-Agent header. */
export interface UserAgentInfo {
  device: Device;
  browser: string | null;
  os: string | null;
}

// Crawlers and scripts often send a browser-like UA (Googlebot's smartphone crawler parses as
// Android Chrome), so they are recognised before the parser has a say.
const BOT =
  /bot|crawler|spider|crawling|slurp|headlesschrome|lighthouse|facebookexternalhit|preview|curl|wget|python-requests|go-http-client/i;
// Long headers are an abuse vector (the parser's regexes run over the whole string); real ones fit well inside this.
const MAX_INPUT = 512;
const MAX_NAME = 64;
const CACHE_SIZE = 1_000;

const DEVICE_TYPES: Record<string, Device> = {
  mobile: "mobile",
  tablet: "tablet",
  smarttv: "tv",
  console: "console",
  wearable: "other",
  embedded: "other",
};

const UNKNOWN: UserAgentInfo = { device: "unknown", browser: null, os: null };

// Insertion order is recency: a hit is moved to the end, and the first key is the least recently used.
const cache = new Map<string, UserAgentInfo>();

function cap(name: string | undefined): string | null {
  return name ? name.slice(0, MAX_NAME) : null;
}

function parse(userAgent: string): UserAgentInfo {
  const result = new UAParser(userAgent).getResult();
  const browser = cap(result.browser.name);
  const os = cap(result.os.name);
  if (BOT.test(userAgent)) return { device: "bot", browser, os };
  const type = result.device.type;
  // The parser reports no device type for desktops: a known browser without one is taken for a desktop.
  const device = type ? DEVICE_TYPES[type] ?? "other" : browser ? "desktop" : "unknown";
  return { device, browser, os };
}

/** Parses a User-Agent header; the last 1,000 distinct strings are cached (a batch shares one). */
export function parseUserAgent(userAgent: string | null | undefined): UserAgentInfo {
  const key = userAgent?.trim().slice(0, MAX_INPUT);
  if (!key) return { ...UNKNOWN };
  let info = cache.get(key);
  if (info) {
    cache.delete(key);
  } else {
    info = parse(key);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, info);
  return { ...info };
}
