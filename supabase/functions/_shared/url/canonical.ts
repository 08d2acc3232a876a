/** UTM values found in a URL's query. */
export interface Utm {
  source?: string;
  medium?: string;
  campaign?: string;
  term?: string;
  content?: string;
}

// Click ids and mailing/analytics tags: they identify the visit, not the page, so two links to the same page
// differ only by them. Every utm_* key goes as well.
const TRACKING = new Set([
  "fbclid",
  "gclid",
  "gclsrc",
  "dclid",
  "gbraid",
  "wbraid",
  "msclkid",
  "mc_cid",
  "mc_eid",
  "igshid",
  "igsh",
  "yclid",
  "twclid",
  "ttclid",
  "li_fat_id",
  "_ga",
  "_gl",
  "_hsenc",
  "_hsmi",
  "mkt_tok",
  "ref_src",
  "ref_url",
  "si",
  "spm",
  "s_cid",
  "oly_anon_id",
  "oly_enc_id",
  "vero_id",
  "wickedid",
  "rb_clickid",
]);

const UTM_KEYS = new Set<keyof Utm>(["source", "medium", "campaign", "term", "content"]);
const MAX_UTM = 200;

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}

function isTracking(key: string): boolean {
  return key.toLowerCase().startsWith("utm_") || TRACKING.has(key);
}

function utmOf(params: URLSearchParams): Utm {
  const utm: Utm = {};
  for (const [key, value] of params) {
    const lower = key.toLowerCase();
    if (!lower.startsWith("utm_")) continue;
    const name = lower.slice(4) as keyof Utm;
    const trimmed = value.trim();
    if (UTM_KEYS.has(name) && trimmed && utm[name] === undefined) utm[name] = trimmed.slice(0, MAX_UTM);
  }
  return utm;
}

/** The URL without tracking parameters, and the UTM values it carried; null if not an absolute http(s) URL. */
export function canonicalizeUrl(raw: string): { url: string; utm: Utm } | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  // Parameters are kept as they were encoded (URLSearchParams would re-encode them, turning "%20" into "+"),
  // and sorted by decoded key; the sort is stable, so repeated keys keep their order.
  const kept = url.search.slice(1).split("&")
    .filter((pair) => pair !== "")
    .map((pair) => ({ pair, key: decodeKey(pair.split("=", 1)[0]) }))
    .filter(({ key }) => !isTracking(key))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const query = kept.map(({ pair }) => pair).join("&");
  // origin leaves out credentials, and the URL parser has already lowercased the host and dropped a default port.
  return {
    url: `${url.origin}${url.pathname}${query ? `?${query}` : ""}`,
    utm: utmOf(url.searchParams),
  };
}
