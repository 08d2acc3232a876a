import { describe, expect, it } from "vitest";
import {
  customEventAllowlist,
  normalizeEventName,
  STANDARD_EVENTS,
  toSnakeCase,
} from "../../supabase/functions/analytics-service/event-name.ts";

describe("toSnakeCase", () => {
  it.each([
    ["Page View", "page_view"],
    ["pageView", "page_view"],
    ["PageView", "page_view"],
    ["page-view", "page_view"],
    ["PAGE_VIEW", "page_view"],
    ["page.view", "page_view"],
    ["page_view", "page_view"],
    ["addToCart", "add_to_cart"],
    ["URLClicked", "url_clicked"],
    ["clickedURL", "clicked_url"],
    ["parseHTMLForm", "parse_html_form"],
    ["HTML5Video", "html5_video"],
    ["step2Complete", "step2_complete"],
    ["  Page  View  ", "page_view"],
    ["page__view", "page_view"],
    ["__page_view__", "page_view"],
    ["page - view", "page_view"],
    ["Page.View-Tracked now", "page_view_tracked_now"],
  ])("%j → %j", (raw, expected) => {
    expect(toSnakeCase(raw)).toBe(expected);
  });

  it("stays fast on a long run of capitals (names come from clients)", () => {
    const started = performance.now();
    expect(toSnakeCase("A".repeat(50_000))).toBe("a".repeat(50_000));
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("normalizeEventName: standard events", () => {
  it.each(STANDARD_EVENTS.map((name) => [name]))("keeps %s as a standard event", (name) => {
    expect(normalizeEventName(name)).toEqual({ name, custom: false });
  });

  it.each([
    ["Page View", "page_view"],
    ["pageView", "page_view"],
    ["PAGE_VIEW", "page_view"],
    ["addToCart", "add_to_cart"],
    ["Add To Cart", "add_to_cart"],
    ["Sign Up", "sign_up"],
    ["form-submit", "form_submit"],
  ])("recognises %j as %s", (raw, name) => {
    expect(normalizeEventName(raw)).toEqual({ name, custom: false });
  });

  it.each([
    ["pageview", "page_view"],
    ["Pageview", "page_view"],
    ["screenview", "screen_view"],
    ["signup", "sign_up"],
    ["register", "sign_up"],
    ["signin", "login"],
    ["Sign In", "login"],
    ["signIn", "login"],
    ["log_in", "login"],
    ["Log In", "login"],
    ["sign_out", "logout"],
    ["signout", "logout"],
    ["Log Out", "logout"],
    ["checkout", "begin_checkout"],
    ["Checkout Started", "begin_checkout"],
    ["Order Completed", "purchase"],
    ["checkout_completed", "purchase"],
    ["Product Viewed", "view_item"],
    ["Product Added", "add_to_cart"],
    ["productRemoved", "remove_from_cart"],
  ])("maps the alias %j to %s", (raw, name) => {
    expect(normalizeEventName(raw)).toEqual({ name, custom: false });
  });
});

describe("normalizeEventName: custom events", () => {
  it.each([
    ["video_played", "video_played"],
    ["Video Played", "video_played"],
    ["URLClicked", "url_clicked"],
    ["newsletter.opened", "newsletter_opened"],
    ["step2Complete", "step2_complete"],
    ["a", "a"],
    ["x".repeat(64), "x".repeat(64)],
  ])("accepts %j as the custom event %s", (raw, name) => {
    expect(normalizeEventName(raw)).toEqual({ name, custom: true });
  });

  it.each([
    ["an empty name", ""],
    ["only separators", " _-. "],
    ["a name starting with a digit", "404_page"],
    ["a name longer than 64 characters", "x".repeat(65)],
    ["a slash", "page/view"],
    ["an emoji", "party🎉"],
    ["an accented letter", "événement"],
    ["markup", "<script>alert(1)</script>"],
    ["a quote", "add_to_cart'"],
    ["a colon", "shop:purchase"],
  ])("rejects %s", (_label, raw) => {
    expect(normalizeEventName(raw)).toBeNull();
  });

  it("does not take object properties for aliases", () => {
    expect(normalizeEventName("constructor")).toEqual({ name: "constructor", custom: true });
    expect(normalizeEventName("__proto__")).toEqual({ name: "proto", custom: true });
  });
});

describe("customEventAllowlist", () => {
  it("normalizes the configured names like incoming ones, and means any name when empty", () => {
    expect(customEventAllowlist(["Wishlist Shared", "quiz-done"])).toEqual(new Set(["wishlist_shared", "quiz_done"]));
    expect(customEventAllowlist([])).toBeUndefined();
  });

  it("fails at start-up on a name no event could ever have", () => {
    expect(() => customEventAllowlist(["ok_name", "9lives"])).toThrow(/ANALYTICS_CUSTOM_EVENTS.*9lives/);
  });
});
