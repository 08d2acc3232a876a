import { describe, expect, it } from "vitest";
import { canonicalizeUrl } from "../../supabase/functions/_shared/url/canonical.ts";

const canonical = (raw: string) => canonicalizeUrl(raw)?.url;

describe("canonicalizeUrl: which URLs it accepts", () => {
  it.each([
    ["a relative path", "/p/1?utm_source=x"],
    ["a bare host", "shop.example/p/1"],
    ["garbage", "not a url"],
    ["an empty string", ""],
    ["an ftp URL", "ftp://shop.example/file"],
    ["a mailto URL", "mailto:ada@example.com"],
    ["a javascript URL", "javascript:alert(1)"],
    ["a data URL", "data:text/html,hi"],
    ["an invalid host", "https://exa mple.com/"],
  ])("returns null for %s", (_label, raw) => {
    expect(canonicalizeUrl(raw)).toBeNull();
  });

  it("accepts http and https in any case", () => {
    expect(canonical("HTTP://shop.example/a")).toBe("http://shop.example/a");
    expect(canonical("HTTPS://shop.example/a")).toBe("https://shop.example/a");
  });
});

describe("canonicalizeUrl: the canonical form", () => {
  it("lowercases the host and keeps the path's case", () => {
    expect(canonical("https://Shop.EXAMPLE.com/Products/Blue-Shirt")).toBe(
      "https://shop.example.com/Products/Blue-Shirt",
    );
  });

  it("drops default ports and keeps others", () => {
    expect(canonical("https://shop.example:443/a")).toBe("https://shop.example/a");
    expect(canonical("http://shop.example:80/a")).toBe("http://shop.example/a");
    expect(canonical("https://shop.example:8443/a")).toBe("https://shop.example:8443/a");
  });

  it("drops credentials and the fragment", () => {
    expect(canonical("https://ada:hunter2@shop.example/a?b=1#reviews")).toBe("https://shop.example/a?b=1");
  });

  it("gives an empty path as / and keeps trailing slashes as they are", () => {
    expect(canonical("https://shop.example")).toBe("https://shop.example/");
    expect(canonical("https://shop.example/p/1/")).toBe("https://shop.example/p/1/");
    expect(canonical("https://shop.example/p/1")).toBe("https://shop.example/p/1");
  });

  it("leaves no trailing ? when every parameter was tracking", () => {
    expect(canonical("https://shop.example/p/1?utm_source=fb&fbclid=abc")).toBe("https://shop.example/p/1");
    expect(canonical("https://shop.example/p/1?")).toBe("https://shop.example/p/1");
    expect(canonical("https://shop.example/p/1?&&")).toBe("https://shop.example/p/1");
  });

  it("sorts the remaining parameters by key and keeps repeated keys in their order", () => {
    expect(canonical("https://shop.example/s?q=shirt&color=red&size=m&color=blue")).toBe(
      "https://shop.example/s?color=red&color=blue&q=shirt&size=m",
    );
  });

  it("gives the same URL for two links to a page that differ only by tracking and order", () => {
    const a = canonical("https://shop.example/p/1?variant=2&ref=home&utm_source=facebook&fbclid=IwAR0x#top");
    const b = canonical("https://SHOP.example:443/p/1?gclid=Cj0K&ref=home&variant=2&utm_campaign=spring");
    expect(a).toBe("https://shop.example/p/1?ref=home&variant=2");
    expect(b).toBe(a);
  });

  it("keeps each parameter encoded as it was", () => {
    expect(canonical("https://shop.example/s?q=blue%20shirt&tag=a+b&flag")).toBe(
      "https://shop.example/s?flag&q=blue%20shirt&tag=a+b",
    );
  });
});

describe("canonicalizeUrl: tracking parameters", () => {
  it.each([
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
  ])("removes %s", (key) => {
    expect(canonical(`https://shop.example/p/1?id=7&${key}=abc123`)).toBe("https://shop.example/p/1?id=7");
  });

  it.each([
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "utm_id",
    "utm_whatever",
    "UTM_Source",
  ])(
    "removes %s (every utm_ key, in any case)",
    (key) => {
      expect(canonical(`https://shop.example/p/1?${key}=x&id=7`)).toBe("https://shop.example/p/1?id=7");
    },
  );

  it("removes a utm key however it is percent-encoded", () => {
    expect(canonical("https://shop.example/p/1?utm%5Fsource=x&id=7")).toBe("https://shop.example/p/1?id=7");
  });

  it("keeps parameters that merely resemble tracking ones", () => {
    expect(canonical("https://shop.example/p/1?ref=home&utm=1&source=x&gclid_note=y&sid=3")).toBe(
      "https://shop.example/p/1?gclid_note=y&ref=home&sid=3&source=x&utm=1",
    );
  });
});

describe("canonicalizeUrl: UTM values", () => {
  it("returns all five, by their short names", () => {
    const result = canonicalizeUrl(
      "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_campaign=spring_sale&utm_term=shirts&utm_content=hero",
    );
    expect(result?.utm).toEqual({
      source: "newsletter",
      medium: "email",
      campaign: "spring_sale",
      term: "shirts",
      content: "hero",
    });
  });

  it("is empty when the URL carries none", () => {
    expect(canonicalizeUrl("https://shop.example/?fbclid=x")?.utm).toEqual({});
  });

  it("decodes and trims values and omits empty ones", () => {
    const result = canonicalizeUrl(
      "https://shop.example/?utm_source=%20Face%20Book%20&utm_medium=&utm_campaign=+++&utm_term=a+b",
    );
    expect(result?.utm).toEqual({ source: "Face Book", term: "a b" });
  });

  it("takes the first occurrence of a key", () => {
    expect(canonicalizeUrl("https://shop.example/?utm_source=first&utm_source=second")?.utm).toEqual({
      source: "first",
    });
  });

  it("reads keys in any case", () => {
    expect(canonicalizeUrl("https://shop.example/?UTM_Source=fb&Utm_Medium=social")?.utm).toEqual({
      source: "fb",
      medium: "social",
    });
  });

  it("ignores utm keys outside the five", () => {
    expect(canonicalizeUrl("https://shop.example/?utm_id=1&utm_=2&utm_source=x")?.utm).toEqual({ source: "x" });
  });

  it("cuts each value to 200 characters", () => {
    const long = "a".repeat(500);
    expect(canonicalizeUrl(`https://shop.example/?utm_campaign=${long}`)?.utm.campaign).toBe("a".repeat(200));
  });
});
