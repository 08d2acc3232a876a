/** Where the client address comes from: a header set by the proxies in front of the function. */
export interface ClientIpPolicy {
  /** `x-forwarded-for` (a list each proxy appends to) or a single-value header such as `cf-connecting-ip`. */
  header: string;
  /**
   * How many proxies in front of the function append to the header. The address is the one the
   * outermost trusted proxy saw: that many entries from the right. Entries further left were
   * sent by the client and could say anything, so they never decide a rate-limit bucket.
   */
  trustedHops: number;
}

/** One proxy (the gateway) appending to `x-forwarded-for`, as the local stack and a bare gateway do. */
export const DEFAULT_CLIENT_IP_POLICY: ClientIpPolicy = { header: "x-forwarded-for", trustedHops: 1 };

/**
 * The client address under `policy`, or "unknown". With fewer entries than trusted hops the
 * leftmost is used: every entry there was written by a trusted proxy.
 */
export function clientIpOf(req: Request, policy: ClientIpPolicy = DEFAULT_CLIENT_IP_POLICY): string {
  const hops = (req.headers.get(policy.header) ?? "").split(",").map((hop) => hop.trim()).filter(Boolean);
  if (hops.length === 0) return "unknown";
  return hops[Math.max(0, hops.length - policy.trustedHops)];
}

const ADDRESS_HEADERS = ["x-forwarded-for", "x-real-ip", "forwarded", "cf-connecting-ip", "true-client-ip"];

/** A copy of `headers` without any header that carries a client address, for functions that keep none. */
export function withoutAddressHeaders(headers: Headers, policy: ClientIpPolicy = DEFAULT_CLIENT_IP_POLICY): Headers {
  const copy = new Headers(headers);
  for (const name of [...ADDRESS_HEADERS, policy.header]) copy.delete(name);
  return copy;
}
