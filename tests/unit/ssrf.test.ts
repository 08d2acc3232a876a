import { describe, expect, it } from "vitest";
import {
  checkWebhookUrl,
  parseIPv4,
  parseIPv6,
  type Resolver,
  systemResolver,
  type UrlPolicy,
} from "../../supabase/functions/_shared/ssrf.ts";

const strict: UrlPolicy = { allowHttp: false, allowedHosts: [] };
const HOST = "hooks.partner.example";

/** A resolver answering `HOST` with `addresses` and failing for any other name; records lookups. */
function resolveTo(...addresses: string[]): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (hostname: string) => {
    asked.push(hostname);
    return hostname === HOST ? Promise.resolve(addresses) : Promise.reject(new Error(`ENOTFOUND ${hostname}`));
  };
  return Object.assign(resolve, { asked });
}

const PUBLIC = resolveTo("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c");

describe("IP parsing", () => {
  it("reads dotted-decimal IPv4 as a 32-bit number and refuses every other spelling", () => {
    expect(parseIPv4("0.0.0.0")).toBe(0);
    expect(parseIPv4("255.255.255.255")).toBe(0xffffffff);
    expect(parseIPv4("10.1.2.3")).toBe(0x0a010203);
    for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "0x7f.0.0.1", "1.2.3.-4", "", "a.b.c.d", "1.2.3.4 "]) {
      expect(parseIPv4(bad), bad).toBeNull();
    }
  });

  it("reads every IPv6 notation as a 128-bit number", () => {
    expect(parseIPv6("::")).toBe(0n);
    expect(parseIPv6("::1")).toBe(1n);
    expect(parseIPv6("0:0:0:0:0:0:0:1")).toBe(1n);
    expect(parseIPv6("FE80::1%eth0")).toBe((0xfe80n << 112n) | 1n);
    expect(parseIPv6("::ffff:127.0.0.1")).toBe(0xffff7f000001n);
    expect(parseIPv6("::ffff:7f00:1")).toBe(0xffff7f000001n);
    expect(parseIPv6("1:2:3:4:5:6:1.2.3.4")).toBe(0x00010002000300040005000601020304n);
    expect(parseIPv6("2001:db8::8:800:200c:417a")).toBe(0x20010db80000000000080800200c417an);
    const bad = ["1::2::3", ":1::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4::5:6:7:8", "12345::", "::g", "1.2.3.4", "::1.2.3", ":::"];
    for (const text of bad) expect(parseIPv6(text), text).toBeNull();
  });
});

describe("checkWebhookUrl: the URL itself", () => {
  it("accepts a public https URL and returns what it checked", async () => {
    const result = await checkWebhookUrl(`https://${HOST}/hooks?x=1`, strict, PUBLIC);
    expect(result).toEqual({
      ok: true,
      url: new URL(`https://${HOST}/hooks?x=1`),
      addresses: ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
    });
  });

  it("refuses what does not parse", async () => {
    for (const raw of ["not a url", "https://", "//example.com/x", "https://exa mple.com/"]) {
      expect(await checkWebhookUrl(raw, strict, PUBLIC), raw).toMatchObject({ ok: false, code: "invalid_url" });
    }
  });

  it("takes https only, and http only when the policy allows it", async () => {
    expect(await checkWebhookUrl(`http://${HOST}/`, strict, PUBLIC)).toMatchObject({ ok: false, code: "insecure_scheme" });
    expect(await checkWebhookUrl(`http://${HOST}/`, { allowHttp: true, allowedHosts: [] }, PUBLIC)).toMatchObject({ ok: true });
    for (const raw of ["ftp://example.com/", "file:///etc/passwd", "gopher://example.com/", "javascript:alert(1)"]) {
      const result = await checkWebhookUrl(raw, { allowHttp: true, allowedHosts: [] }, PUBLIC);
      expect(result, raw).toMatchObject({ ok: false, code: "insecure_scheme" });
    }
  });

  it("refuses credentials in the URL", async () => {
    for (const raw of [`https://user:pass@${HOST}/`, `https://user@${HOST}/`, `https://:pass@${HOST}/`]) {
      expect(await checkWebhookUrl(raw, strict, PUBLIC), raw).toMatchObject({ ok: false, code: "credentials_in_url" });
    }
  });

  it("answers unresolvable when the name does not resolve or resolves to nothing", async () => {
    expect(await checkWebhookUrl("https://nowhere.example/", strict, PUBLIC)).toMatchObject({
      ok: false,
      code: "unresolvable",
    });
    expect(await checkWebhookUrl(`https://${HOST}/`, strict, resolveTo())).toMatchObject({ ok: false, code: "unresolvable" });
  });

  it("refuses cloud metadata hostnames by name, without resolving them", async () => {
    const resolve = resolveTo("93.184.215.14");
    for (const host of ["metadata.google.internal", "METADATA.google.internal.", "metadata"]) {
      const result = await checkWebhookUrl(`https://${host}/computeMetadata/v1/`, strict, resolve);
      expect(result, host).toMatchObject({ ok: false, code: "forbidden_address" });
    }
    expect(resolve.asked).toEqual([]);
  });
});

// [address, what the guard calls it]; boundaries on both sides of each range.
const FORBIDDEN_V4: [string, string][] = [
  ["127.0.0.1", "loopback"],
  ["127.255.255.254", "loopback"],
  ["10.0.0.5", "private"],
  ["10.255.255.255", "private"],
  ["172.16.0.1", "private"],
  ["172.31.255.255", "private"],
  ["192.168.0.1", "private"],
  ["192.168.255.255", "private"],
  ["169.254.0.1", "link-local"],
  ["169.254.255.255", "link-local"],
  ["169.254.169.254", "cloud metadata"],
  ["100.64.0.1", "carrier-grade NAT"],
  ["100.127.255.255", "carrier-grade NAT"],
  ["0.0.0.0", "unspecified"],
  ["0.255.255.255", "unspecified"],
  ["224.0.0.1", "multicast"],
  ["239.255.255.250", "multicast"],
  ["240.0.0.1", "reserved"],
  ["255.255.255.255", "reserved"],
  ["192.0.2.10", "reserved"],
  ["198.18.0.1", "reserved"],
];
const ALLOWED_V4 = [
  "9.255.255.255",
  "11.0.0.0",
  "172.15.255.255",
  "172.32.0.0",
  "192.167.255.255",
  "192.169.0.0",
  "169.253.255.255",
  "169.255.0.0",
  "100.63.255.255",
  "100.128.0.0",
  "1.0.0.0",
  "126.255.255.255",
  "128.0.0.0",
  "223.255.255.255",
  "8.8.8.8",
];

const FORBIDDEN_V6: [string, string][] = [
  ["::1", "loopback"],
  ["0:0:0:0:0:0:0:1", "loopback"],
  ["::", "unspecified"],
  ["fc00::1", "private"],
  ["fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "private"],
  ["fe80::1", "link-local"],
  ["febf:ffff::1", "link-local"],
  ["fec0::1", "private"],
  ["ff02::1", "multicast"],
  ["fd00:ec2::254", "cloud metadata"],
  ["::ffff:127.0.0.1", "loopback"],
  ["::ffff:7f00:1", "loopback"],
  ["::ffff:10.0.0.1", "private"],
  ["::ffff:169.254.169.254", "cloud metadata"],
  ["::127.0.0.1", "reserved"],
  ["64:ff9b::a00:1", "private"],
  ["2002:7f00:1::1", "loopback"],
  ["2002:a9fe:a9fe::", "cloud metadata"],
  ["2001:db8::1", "reserved"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved"],
  ["100::1", "reserved"],
  ["4000::1", "reserved"],
];
const ALLOWED_V6 = ["2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"];

describe("checkWebhookUrl: addresses", () => {
  it.each(FORBIDDEN_V4)("refuses %s (%s) as a literal and as what a name resolves to", async (address, label) => {
    const literal = await checkWebhookUrl(`https://${address}/hook`, strict, PUBLIC);
    expect(literal).toEqual({ ok: false, code: "forbidden_address", reason: `${address} is a ${label} address.` });
    const resolved = await checkWebhookUrl(`https://${HOST}/hook`, strict, resolveTo(address));
    expect(resolved).toMatchObject({ ok: false, code: "forbidden_address" });
    expect((resolved as { reason: string }).reason).toBe(`${HOST} resolves to a ${label} address.`);
  });

  it.each(ALLOWED_V4)("accepts the public address %s", async (address) => {
    expect(await checkWebhookUrl(`https://${address}/hook`, strict, PUBLIC)).toMatchObject({ ok: true, addresses: [address] });
    expect(await checkWebhookUrl(`https://${HOST}/hook`, strict, resolveTo(address))).toMatchObject({ ok: true });
  });

  it.each(FORBIDDEN_V6)("refuses %s (%s) as a literal and as what a name resolves to", async (address, label) => {
    const literal = await checkWebhookUrl(`https://[${address}]/hook`, strict, PUBLIC);
    expect(literal).toMatchObject({ ok: false, code: "forbidden_address" });
    expect((literal as { reason: string }).reason).toMatch(new RegExp(` is a ${label} address\\.$`));
    const resolved = await checkWebhookUrl(`https://${HOST}/hook`, strict, resolveTo(address));
    expect(resolved).toMatchObject({ ok: false, code: "forbidden_address", reason: `${HOST} resolves to a ${label} address.` });
  });

  it.each(ALLOWED_V6)("accepts the public address %s", async (address) => {
    expect(await checkWebhookUrl(`https://[${address}]/hook`, strict, PUBLIC)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl(`https://${HOST}/hook`, strict, resolveTo(address))).toMatchObject({ ok: true });
  });

  it("judges the IPv4 forms the URL parser normalizes (decimal, hex, short) by the address they mean", async () => {
    for (const host of ["2130706433", "0x7f.1", "127.1", "0177.0.0.1"]) {
      expect(await checkWebhookUrl(`https://${host}/`, strict, PUBLIC), host).toMatchObject({
        ok: false,
        reason: "127.0.0.1 is a loopback address.",
      });
    }
  });

  it("refuses a name when ANY of its addresses is forbidden, without naming that address", async () => {
    const result = await checkWebhookUrl(`https://${HOST}/`, strict, resolveTo("93.184.215.14", "10.1.2.3"));
    expect(result).toEqual({ ok: false, code: "forbidden_address", reason: `${HOST} resolves to a private address.` });
  });

  it("refuses a name resolving to 127.0.0.1", async () => {
    const result = await checkWebhookUrl(`https://${HOST}/`, strict, resolveTo("127.0.0.1"));
    expect(result).toMatchObject({ ok: false, code: "forbidden_address", reason: `${HOST} resolves to a loopback address.` });
    expect(JSON.stringify(result)).not.toContain("127.0.0.1");
  });

  it("does not resolve an IP literal", async () => {
    const resolve = resolveTo("93.184.215.14");
    await checkWebhookUrl("https://[2606:4700:4700::1111]/", strict, resolve);
    await checkWebhookUrl("https://8.8.8.8/", strict, resolve);
    expect(resolve.asked).toEqual([]);
  });
});

describe("checkWebhookUrl: the allowlist", () => {
  it("lets an allowlisted hostname through whatever it resolves to", async () => {
    const policy = { allowHttp: false, allowedHosts: [HOST.toUpperCase()] };
    expect(await checkWebhookUrl(`https://${HOST}/`, policy, resolveTo("10.0.0.5", "127.0.0.1"))).toMatchObject({
      ok: true,
      addresses: ["10.0.0.5", "127.0.0.1"],
    });
    expect(await checkWebhookUrl("https://other.example/", policy, resolveTo("10.0.0.5"))).toMatchObject({ ok: false });
  });

  it("lets an allowlisted address through, and only that address", async () => {
    const policy = { allowHttp: false, allowedHosts: ["10.0.0.5"] };
    expect(await checkWebhookUrl(`https://${HOST}/`, policy, resolveTo("10.0.0.5"))).toMatchObject({ ok: true });
    expect(await checkWebhookUrl("https://10.0.0.5:8443/", policy, PUBLIC)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl(`https://${HOST}/`, policy, resolveTo("10.0.0.5", "10.0.0.6"))).toMatchObject({
      ok: false,
      code: "forbidden_address",
    });
    expect(await checkWebhookUrl("https://10.0.0.6/", policy, PUBLIC)).toMatchObject({ ok: false });
  });

  it("compares IPv6 entries as addresses, whatever their spelling", async () => {
    const policy = { allowHttp: true, allowedHosts: ["[0:0::1]"] };
    expect(await checkWebhookUrl("http://[::1]:8080/hook", policy, PUBLIC)).toMatchObject({ ok: true });
    expect(await checkWebhookUrl(`http://${HOST}/`, policy, resolveTo("0000::0001"))).toMatchObject({ ok: true });
    // An IPv4-mapped address is the IPv4 address it maps.
    const v4 = { allowHttp: true, allowedHosts: ["127.0.0.1"] };
    expect(await checkWebhookUrl("http://[::ffff:127.0.0.1]/", v4, PUBLIC)).toMatchObject({ ok: true });
  });

  it("can allow a metadata hostname only by naming it", async () => {
    const policy = { allowHttp: true, allowedHosts: ["metadata"] };
    expect(await checkWebhookUrl("http://metadata/", policy, async () => ["10.0.0.9"])).toMatchObject({ ok: true });
  });

  it("still refuses the scheme and credentials for an allowlisted host", async () => {
    const policy = { allowHttp: false, allowedHosts: ["127.0.0.1"] };
    expect(await checkWebhookUrl("http://127.0.0.1/", policy, PUBLIC)).toMatchObject({ code: "insecure_scheme" });
    expect(await checkWebhookUrl("https://u:p@127.0.0.1/", policy, PUBLIC)).toMatchObject({ code: "credentials_in_url" });
  });
});

describe("checkWebhookUrl with the system resolver", () => {
  const dev = { allowHttp: true, allowedHosts: [] };

  it("resolves localhost to a loopback address", async () => {
    const addresses = await systemResolver("localhost");
    expect(addresses.length).toBeGreaterThan(0);
    expect(addresses.every((address) => address === "::1" || address.startsWith("127."))).toBe(true);
  });

  it("refuses localhost without the allowlist, and accepts it with it", async () => {
    expect(await checkWebhookUrl("http://localhost:9/hook", dev)).toEqual({
      ok: false,
      code: "forbidden_address",
      reason: "localhost resolves to a loopback address.",
    });
    expect(await checkWebhookUrl("http://localhost:9/hook", { ...dev, allowedHosts: ["localhost"] })).toMatchObject({
      ok: true,
    });
  });

  it("answers unresolvable for a name that does not exist", async () => {
    expect(await checkWebhookUrl("https://no-such-host.invalid/", strict)).toMatchObject({ code: "unresolvable" });
  });
});
