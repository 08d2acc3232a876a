import { lookup } from "node:dns/promises";

/**
 * Where outbound webhooks may go. `allowedHosts` lifts the address check for exact hostnames
 * or IP addresses: it exists for local development (a receiver on 127.0.0.1) and for internal
 * partners reached over a private network. Each entry is a deliberate hole in the guard.
 */
export interface UrlPolicy {
  allowHttp: boolean;
  allowedHosts: string[];
}

/** Resolves a hostname to its IPv4/IPv6 addresses; throws when it cannot. */
export type Resolver = (hostname: string) => Promise<string[]>;

/** The guard's verdict: the parsed URL and the addresses it checked, or why it refused. */
export type UrlCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; code: string; reason: string };

const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * The operating system's resolver (getaddrinfo through `node:dns`, in Deno and Node alike),
 * so /etc/hosts and search domains count exactly as they will when the request connects.
 * A lookup that hangs counts as a failure after 5 s rather than holding a delivery.
 */
export const systemResolver: Resolver = async (hostname) => {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`DNS lookup timed out after ${RESOLVE_TIMEOUT_MS} ms`)),
      RESOLVE_TIMEOUT_MS,
    );
  });
  try {
    const records = await Promise.race([lookup(hostname, { all: true }), timeout]);
    return records.map((record) => record.address);
  } finally {
    clearTimeout(timer);
  }
};

// Hostnames of cloud metadata services, refused by name: some resolve only inside the cloud.
const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata"]);

interface Range<N> {
  base: N;
  bits: number;
  label: string;
}

const V4_RANGES: Range<number>[] = [
  v4("169.254.169.254", 32, "cloud metadata"),
  v4("0.0.0.0", 8, "unspecified"),
  v4("10.0.0.0", 8, "private"),
  v4("100.64.0.0", 10, "carrier-grade NAT"),
  v4("127.0.0.0", 8, "loopback"),
  v4("169.254.0.0", 16, "link-local"),
  v4("172.16.0.0", 12, "private"),
  v4("192.0.0.0", 24, "reserved"),
  v4("192.0.2.0", 24, "reserved"),
  v4("192.168.0.0", 16, "private"),
  v4("198.18.0.0", 15, "reserved"),
  v4("198.51.100.0", 24, "reserved"),
  v4("203.0.113.0", 24, "reserved"),
  v4("224.0.0.0", 4, "multicast"),
  v4("240.0.0.0", 4, "reserved"),
];

const V6_RANGES: Range<bigint>[] = [
  v6("::", 128, "unspecified"),
  v6("::1", 128, "loopback"),
  v6("fd00:ec2::254", 128, "cloud metadata"),
  // IPv4-compatible (deprecated) addresses: nothing legitimate uses them any more.
  v6("::", 96, "reserved"),
  v6("100::", 64, "reserved"),
  // Teredo hides the IPv4 address it tunnels to; documentation addresses route nowhere.
  v6("2001::", 32, "reserved"),
  v6("2001:db8::", 32, "reserved"),
  v6("fc00::", 7, "private"),
  v6("fe80::", 10, "link-local"),
  v6("fec0::", 10, "private"),
  v6("ff00::", 8, "multicast"),
];

// Prefixes whose addresses carry an IPv4 address that the packet really goes to.
const MAPPED = v6("::ffff:0:0", 96, "IPv4-mapped");
const NAT64 = v6("64:ff9b::", 96, "NAT64");
const SIX_TO_FOUR = v6("2002::", 16, "6to4");
const GLOBAL_UNICAST = v6("2000::", 3, "global unicast");

function v4(address: string, bits: number, label: string): Range<number> {
  return { base: parseIPv4(address)!, bits, label };
}

function v6(address: string, bits: number, label: string): Range<bigint> {
  return { base: parseIPv6(address)!, bits, label };
}

/** An IPv4 address in dotted-decimal form as an unsigned 32-bit number, or null. */
export function parseIPv4(text: string): number | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    // Canonical decimal only: octal (010) and hex forms are what parser-confusion attacks use.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = value * 256 + octet;
  }
  return value;
}

/** An IPv6 address (with `::`, an embedded dotted IPv4 tail, or a zone) as a 128-bit bigint, or null. */
export function parseIPv6(text: string): bigint | null {
  const address = text.split("%")[0];
  if (!address.includes(":")) return null;
  let tail: number[] = [];
  let head = address;
  const lastColon = address.lastIndexOf(":");
  if (address.slice(lastColon + 1).includes(".")) {
    const v4value = parseIPv4(address.slice(lastColon + 1));
    if (v4value === null) return null;
    tail = [v4value >>> 16, v4value & 0xffff];
    head = address.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "a::1.2.3.4" leaves "a::", "a:b:1.2.3.4" leaves "a:b:".
    if (!head.endsWith("::")) head = head.slice(0, -1);
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (half: string) => (half === "" ? [] : half.split(":"));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const given = left.length + right.length + tail.length;
  if (halves.length === 1 ? given !== 8 : given > 7) return null;
  const words: number[] = [];
  for (const group of [...left, ...Array(8 - given).fill("0"), ...right]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) return null;
    words.push(parseInt(group, 16));
  }
  words.push(...tail);
  return words.reduce((value, word) => (value << 16n) | BigInt(word), 0n);
}

function inRange<N extends number | bigint>(value: N, range: Range<N>, width: number): boolean {
  if (typeof value === "bigint") {
    const shift = BigInt(width - range.bits);
    return value >> shift === (range.base as bigint) >> shift;
  }
  // 2 ** n instead of bit shifts: JavaScript's << works on signed 32-bit integers.
  const size = 2 ** (width - range.bits);
  return Math.floor((value as number) / size) === Math.floor((range.base as number) / size);
}

function classifyIPv4(value: number): string | null {
  return V4_RANGES.find((range) => inRange(value, range, 32))?.label ?? null;
}

function classifyIPv6(value: bigint): string | null {
  // Addresses that carry an IPv4 address are judged by it: ::ffff:127.0.0.1 is loopback.
  if (inRange(value, MAPPED, 128) || inRange(value, NAT64, 128)) return classifyIPv4(Number(value & 0xffffffffn));
  if (inRange(value, SIX_TO_FOUR, 128)) return classifyIPv4(Number((value >> 80n) & 0xffffffffn));
  const listed = V6_RANGES.find((range) => inRange(value, range, 128))?.label;
  if (listed) return listed;
  // Everything outside 2000::/3 is unassigned or special-purpose; no webhook receiver lives there.
  return inRange(value, GLOBAL_UNICAST, 128) ? null : "reserved";
}

/**
 * A canonical key for an IP address, so that "::1", "0:0::1" and "[::1]" are equal, and an
 * IPv4-mapped IPv6 address equals its IPv4 address. Null for anything that is not an IP.
 */
function addressKey(text: string): string | null {
  const bare = text.replace(/^\[(.*)\]$/, "$1");
  const v4value = parseIPv4(bare);
  if (v4value !== null) return `v4:${v4value}`;
  const v6value = parseIPv6(bare);
  if (v6value === null) return null;
  return inRange(v6value, MAPPED, 128) ? `v4:${Number(v6value & 0xffffffffn)}` : `v6:${v6value}`;
}

/** Why an address may not receive webhooks ("loopback", "private"...), or null if it may. */
function forbiddenReason(address: string): string | null {
  const bare = address.split("%")[0];
  const v4value = parseIPv4(bare);
  if (v4value !== null) return classifyIPv4(v4value);
  const v6value = parseIPv6(bare);
  // An address the guard cannot read is one it cannot vouch for.
  return v6value === null ? "unrecognised" : classifyIPv6(v6value);
}

const normalizeHost = (host: string) => host.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");

/**
 * The SSRF guard for webhook URLs, run when an endpoint is registered and before every
 * delivery. Refuses non-https schemes (http only with `allowHttp`), credentials in the URL,
 * hosts that do not resolve, and hosts where ANY resolved address is loopback, private,
 * link-local, CGNAT, unspecified, multicast, reserved or a cloud metadata service, unless the
 * hostname or that address is in `allowedHosts`. IPv4 carried inside IPv6 (mapped, NAT64,
 * 6to4) is judged as the IPv4 address it carries.
 *
 * Limitation (DNS rebinding): this is check-then-connect. The HTTP client resolves the name
 * again when it connects, so a hostile DNS server with a zero TTL can answer a public address
 * here and a private one to the connect. Running the check at every delivery narrows the
 * window but cannot close it; closing it needs connecting to the checked address itself
 * (which fetch does not offer) or an egress firewall that blocks internal ranges, which
 * production should have regardless.
 */
export async function checkWebhookUrl(
  raw: string,
  policy: UrlPolicy,
  resolve: Resolver = systemResolver,
): Promise<UrlCheck> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, code: "invalid_url", reason: "The URL cannot be parsed." };
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) {
    const schemes = policy.allowHttp ? "https or http" : "https";
    return {
      ok: false,
      code: "insecure_scheme",
      reason: `The URL must use ${schemes}, not ${url.protocol.slice(0, -1)}.`,
    };
  }
  if (url.username || url.password) {
    return { ok: false, code: "credentials_in_url", reason: "The URL must not contain a username or password." };
  }
  const host = normalizeHost(url.hostname);
  if (!host) return { ok: false, code: "invalid_url", reason: "The URL has no host." };

  const allowed = new Set(policy.allowedHosts.map((entry) => addressKey(entry) ?? normalizeHost(entry)));
  const hostAllowed = allowed.has(addressKey(host) ?? host);
  if (METADATA_HOSTS.has(host) && !hostAllowed) {
    return { ok: false, code: "forbidden_address", reason: `${host} is a cloud metadata service.` };
  }

  const literal = addressKey(host) !== null;
  let addresses: string[];
  if (literal) {
    addresses = [host];
  } else {
    try {
      addresses = await resolve(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) {
      return { ok: false, code: "unresolvable", reason: `The host ${host} could not be resolved.` };
    }
  }
  if (!hostAllowed) {
    for (const address of addresses) {
      const key = addressKey(address);
      if (key !== null && allowed.has(key)) continue;
      const problem = forbiddenReason(address);
      if (problem) {
        // The reason names the category, never the address: it may be an internal one.
        const subject = literal ? `${host} is` : `${host} resolves to`;
        return { ok: false, code: "forbidden_address", reason: `${subject} a ${problem} address.` };
      }
    }
  }
  return { ok: true, url, addresses };
}
