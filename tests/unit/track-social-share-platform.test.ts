import { describe, expect, it } from "vitest";
import {
  detectPlatform,
  normalizePlatform,
  platformFromReferrer,
  platformFromShareUrl,
  PLATFORMS,
} from "../../supabase/functions/track-social-share/platform.ts";

describe("normalizePlatform", () => {
  it.each(PLATFORMS.map((platform) => [platform]))("accepts the canonical name %s", (platform) => {
    expect(normalizePlatform(platform)).toBe(platform);
  });

  it.each([
    ["twitter", "x"],
    ["Twitter", "x"],
    ["tw", "x"],
    ["X", "x"],
    ["fb", "facebook"],
    [" Facebook ", "facebook"],
    ["mail", "email"],
    ["e-mail", "email"],
    ["E-Mail", "email"],
    ["copy", "copy_link"],
    ["copylink", "copy_link"],
    ["copy-link", "copy_link"],
    ["Copy Link", "copy_link"],
    ["clipboard", "copy_link"],
    ["link", "copy_link"],
    ["native_share", "native"],
    ["navigator.share", "native"],
    ["share sheet", "native"],
    ["Share-Sheet", "native"],
    ["web_share", "native"],
    ["wa", "whatsapp"],
    ["WhatsApp", "whatsapp"],
    ["tg", "telegram"],
    ["LinkedIn", "linkedin"],
    ["iMessage", "sms"],
    ["SMS", "sms"],
  ])("maps %j to %s", (value, platform) => {
    expect(normalizePlatform(value)).toBe(platform);
  });

  it.each(["", "   ", "myspace", "face book", "constructor", "__proto__", "toString"])("rejects %j", (value) => {
    expect(normalizePlatform(value)).toBeNull();
  });
});

describe("platformFromShareUrl", () => {
  it.each([
    ["https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fshop.example%2Fp%2F1", "facebook"],
    ["https://facebook.com/sharer.php?u=x", "facebook"],
    ["https://m.facebook.com/sharer.php?u=x", "facebook"],
    ["https://web.facebook.com/sharer/sharer.php?u=x", "facebook"],
    ["https://www.facebook.com/dialog/share?app_id=1&href=x", "facebook"],
    ["https://www.facebook.com/dialog/feed?app_id=1&link=x", "facebook"],
    ["https://twitter.com/intent/tweet?text=hi&url=x", "x"],
    ["https://x.com/intent/post?text=hi", "x"],
    ["https://twitter.com/share?url=x", "x"],
    ["https://x.com/share?url=x", "x"],
    ["https://x.com/someone/status/1", "x"],
    ["https://www.linkedin.com/sharing/share-offsite/?url=x", "linkedin"],
    ["https://www.linkedin.com/shareArticle?mini=true&url=x", "linkedin"],
    ["https://linkedin.com/feed/?shareActive=true&text=x", "linkedin"],
    ["https://pinterest.com/pin/create/button/?url=x&media=y", "pinterest"],
    ["https://www.pinterest.co.uk/pin/create/link/?url=x", "pinterest"],
    ["https://pin.it/abc123", "pinterest"],
    ["https://www.reddit.com/submit?url=x&title=y", "reddit"],
    ["https://old.reddit.com/submit?url=x", "reddit"],
    ["https://new.reddit.com/submit?url=x", "reddit"],
    ["https://wa.me/?text=hi%20x", "whatsapp"],
    ["https://api.whatsapp.com/send?text=x", "whatsapp"],
    ["https://web.whatsapp.com/send?text=x", "whatsapp"],
    ["whatsapp://send?text=x", "whatsapp"],
    ["https://t.me/share/url?url=x&text=y", "telegram"],
    ["https://telegram.me/share/url?url=x", "telegram"],
    ["tg://msg_url?url=x", "telegram"],
    ["mailto:?subject=Look&body=x", "email"],
    ["MAILTO:ada@example.com", "email"],
    ["sms:?&body=x", "sms"],
    ["sms:+15550100?body=x", "sms"],
    ["  https://wa.me/?text=x  ", "whatsapp"],
  ])("%s goes to %s", (url, platform) => {
    expect(platformFromShareUrl(url)).toBe(platform);
  });

  it.each([
    ["a look-alike host", "https://evilfacebook.com/sharer/sharer.php?u=x"],
    ["a look-alike host with the brand as a subdomain", "https://facebook.com.evil.io/sharer/sharer.php?u=x"],
    ["a look-alike x.com", "https://notx.com/intent/tweet"],
    ["a look-alike x.com as a subdomain", "https://x.com.evil.io/intent/tweet"],
    ["a look-alike LinkedIn", "https://linkedin.com.evil.io/sharing/share-offsite/?url=x"],
    ["a look-alike wa.me", "https://fakewa.me/?text=x"],
    ["a look-alike t.me", "https://evilt.me/share/url?url=x"],
    ["a Facebook page that is not a share dialog", "https://www.facebook.com/someshop"],
    ["a tweet on twitter.com (not an intent)", "https://twitter.com/someone/status/1"],
    ["a Reddit thread, not the submit page", "https://www.reddit.com/r/shop/comments/1"],
    ["a Pinterest pin, not the create page", "https://www.pinterest.com/pin/123/"],
    ["a Telegram channel, not the share page", "https://t.me/somechannel"],
    ["a shop page", "https://shop.example/p/1?utm_source=facebook"],
    ["a relative URL", "/sharer/sharer.php?u=x"],
    ["garbage", "not a url at all"],
    ["an empty string", ""],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a bare host without scheme", "facebook.com/sharer.php?u=x"],
  ])("returns null for %s", (_label, url) => {
    expect(platformFromShareUrl(url)).toBeNull();
  });
});

describe("platformFromReferrer", () => {
  it.each([
    ["https://www.facebook.com/", "facebook"],
    ["https://l.facebook.com/", "facebook"],
    ["https://lm.facebook.com/l.php?u=x", "facebook"],
    ["https://m.facebook.com/", "facebook"],
    ["https://fb.com/", "facebook"],
    ["https://t.co/AbCdEf", "x"],
    ["https://twitter.com/", "x"],
    ["https://x.com/", "x"],
    ["https://www.linkedin.com/", "linkedin"],
    ["https://lnkd.in/abc", "linkedin"],
    ["https://www.pinterest.com/", "pinterest"],
    ["https://www.pinterest.de/", "pinterest"],
    ["https://pinterest.com.au/", "pinterest"],
    ["https://pin.it/abc", "pinterest"],
    ["https://www.reddit.com/", "reddit"],
    ["https://out.reddit.com/t3_abc", "reddit"],
    ["https://whatsapp.com/", "whatsapp"],
    ["https://web.whatsapp.com/", "whatsapp"],
    ["https://t.me/", "telegram"],
    ["https://telegram.org/", "telegram"],
    ["https://web.telegram.org/k/", "telegram"],
    ["https://mail.google.com/", "email"],
    ["https://outlook.live.com/", "email"],
    ["https://mail.yahoo.com/", "email"],
    ["android-app://com.google.android.gm", "email"],
    ["android-app://com.facebook.katana/", "facebook"],
    ["android-app://com.twitter.android", "x"],
    ["android-app://com.linkedin.android", "linkedin"],
    ["android-app://org.telegram.messenger", "telegram"],
    ["android-app://com.whatsapp", "whatsapp"],
    ["android-app://com.reddit.frontpage", "reddit"],
    ["android-app://com.pinterest", "pinterest"],
  ])("%s comes from %s", (referrer, platform) => {
    expect(platformFromReferrer(referrer)).toBe(platform);
  });

  it.each([
    ["a search engine", "https://www.google.com/"],
    ["Google without the mail subdomain", "https://google.com/"],
    ["a look-alike host", "https://evilfacebook.com/"],
    ["the brand as a subdomain of another site", "https://facebook.com.evil.io/"],
    ["a look-alike t.co", "https://bit.co/abc"],
    ["an unknown Android app", "android-app://com.example.reader"],
    ["garbage", "::::"],
    ["an empty string", ""],
  ])("returns null for %s", (_label, referrer) => {
    expect(platformFromReferrer(referrer)).toBeNull();
  });
});

describe("detectPlatform", () => {
  const shareUrl = "https://twitter.com/intent/tweet?url=x";
  const referrer = "https://l.facebook.com/";

  it("takes the explicit platform over the share URL and the referrer", () => {
    expect(detectPlatform({ platform: "copy_link", shareUrl, referrer })).toBe("copy_link");
  });

  it("takes the share URL over the referrer", () => {
    expect(detectPlatform({ shareUrl, referrer })).toBe("x");
  });

  it("falls back to the referrer when the share URL says nothing", () => {
    expect(detectPlatform({ shareUrl: "https://shop.example/p/1", referrer })).toBe("facebook");
    expect(detectPlatform({ shareUrl: "garbage", referrer })).toBe("facebook");
  });

  it("is other when nothing says", () => {
    expect(detectPlatform({})).toBe("other");
    expect(detectPlatform({ shareUrl: "", referrer: "" })).toBe("other");
    expect(detectPlatform({ shareUrl: "https://shop.example/", referrer: "https://www.google.com/" })).toBe("other");
  });
});
