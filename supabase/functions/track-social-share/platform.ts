/** Where a share goes; "native" is the OS share sheet and "other" is the fallback when nothing says. */
export const PLATFORMS = [
  "facebook",
  "x",
  "linkedin",
  "pinterest",
  "reddit",
  "whatsapp",
  "telegram",
  "email",
  "sms",
  "native",
  "copy_link",
  "other",
] as const;

/** One of {@link PLATFORMS}. */
export type Platform = (typeof PLATFORMS)[number];

// Keys are lowercased with "-" and spaces turned into "_", so "Copy-Link" and "copy link" meet "copy_link".
const ALIASES: Record<string, Platform> = {
  facebook: "facebook",
  fb: "facebook",
  x: "x",
  twitter: "x",
  tw: "x",
  linkedin: "linkedin",
  pinterest: "pinterest",
  reddit: "reddit",
  whatsapp: "whatsapp",
  wa: "whatsapp",
  telegram: "telegram",
  tg: "telegram",
  email: "email",
  e_mail: "email",
  mail: "email",
  sms: "sms",
  imessage: "sms",
  native: "native",
  native_share: "native",
  "navigator.share": "native",
  share_sheet: "native",
  web_share: "native",
  copy_link: "copy_link",
  copylink: "copy_link",
  copy: "copy_link",
  clipboard: "copy_link",
  link: "copy_link",
  other: "other",
};

/** An explicit client-supplied platform name, lowercased/trimmed, with aliases; null if unknown. */
export function normalizePlatform(value: string): Platform | null {
  const key = value.trim().toLowerCase().replace(/[-\s]+/g, "_");
  return Object.hasOwn(ALIASES, key) ? ALIASES[key] : null;
}

function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw.trim());
  } catch {
    return null;
  }
}

// By exact host or dot-suffix only, so neither "evilfacebook.com" nor "facebook.com.evil.io" passes for Facebook.
function onHost(hostname: string, domain: string): boolean {
  return hostname === domain || hostname.endsWith(`.${domain}`);
}

// pinterest.com, pinterest.co.uk, de.pinterest.com…: Pinterest runs a site per country.
function onPinterest(hostname: string): boolean {
  return /(^|\.)pinterest\.[a-z]{2,3}(\.[a-z]{2})?$/.test(hostname);
}

const SHARE_SCHEMES: Record<string, Platform> = {
  "mailto:": "email",
  "sms:": "sms",
  "whatsapp:": "whatsapp",
  "tg:": "telegram",
};

/** The platform a share/intent URL goes to (host, path or scheme), or null. */
export function platformFromShareUrl(shareUrl: string): Platform | null {
  const url = parseUrl(shareUrl);
  if (!url) return null;
  if (Object.hasOwn(SHARE_SCHEMES, url.protocol)) return SHARE_SCHEMES[url.protocol];
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const host = url.hostname.replace(/\.$/, "");
  const path = url.pathname.toLowerCase();
  if (onHost(host, "facebook.com") && /^\/(sharer|dialog\/(share|feed))\b/.test(path)) return "facebook";
  if (onHost(host, "x.com")) return "x";
  if (onHost(host, "twitter.com") && /^\/(intent\/|share\b)/.test(path)) return "x";
  if (onHost(host, "linkedin.com")) return "linkedin";
  if ((onPinterest(host) && path.startsWith("/pin/create/")) || onHost(host, "pin.it")) return "pinterest";
  if (onHost(host, "reddit.com") && /^\/submit\b/.test(path)) return "reddit";
  if (onHost(host, "wa.me")) return "whatsapp";
  if ((host === "api.whatsapp.com" || host === "web.whatsapp.com") && /^\/send\b/.test(path)) return "whatsapp";
  if ((onHost(host, "t.me") || onHost(host, "telegram.me")) && /^\/share\b/.test(path)) return "telegram";
  return null;
}

// Android apps send "android-app://<package>" as the referrer when they open a link in a browser.
const ANDROID_APPS: Record<string, Platform> = {
  "com.google.android.gm": "email",
  "com.facebook.katana": "facebook",
  "com.twitter.android": "x",
  "com.linkedin.android": "linkedin",
  "org.telegram.messenger": "telegram",
  "com.whatsapp": "whatsapp",
  "com.reddit.frontpage": "reddit",
  "com.pinterest": "pinterest",
};

// Each domain also covers its subdomains (l.facebook.com, out.reddit.com, web.telegram.org…).
const REFERRER_DOMAINS: [string, Platform][] = [
  ["facebook.com", "facebook"],
  ["fb.com", "facebook"],
  ["t.co", "x"],
  ["twitter.com", "x"],
  ["x.com", "x"],
  ["linkedin.com", "linkedin"],
  ["lnkd.in", "linkedin"],
  ["pin.it", "pinterest"],
  ["reddit.com", "reddit"],
  ["whatsapp.com", "whatsapp"],
  ["t.me", "telegram"],
  ["telegram.org", "telegram"],
  ["mail.google.com", "email"],
  ["outlook.live.com", "email"],
  ["mail.yahoo.com", "email"],
];

/** The platform a referrer URL comes from, or null. */
export function platformFromReferrer(referrer: string): Platform | null {
  const url = parseUrl(referrer);
  if (!url) return null;
  if (url.protocol === "android-app:") return ANDROID_APPS[url.hostname] ?? null;
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const host = url.hostname.replace(/\.$/, "");
  if (onPinterest(host)) return "pinterest";
  return REFERRER_DOMAINS.find(([domain]) => onHost(host, domain))?.[1] ?? null;
}

/** Explicit value first, then the share URL, then the referrer; "other" when none says. */
export function detectPlatform(input: { platform?: Platform; shareUrl?: string; referrer?: string }): Platform {
  return input.platform ?? (input.shareUrl ? platformFromShareUrl(input.shareUrl) : null) ??
    (input.referrer ? platformFromReferrer(input.referrer) : null) ?? "other";
}
