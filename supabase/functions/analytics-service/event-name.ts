/** Event names reports know; anything else is stored as a custom event. */
export const STANDARD_EVENTS = [
  "page_view",
  "screen_view",
  "click",
  "scroll",
  "search",
  "share",
  "sign_up",
  "login",
  "logout",
  "view_item",
  "view_item_list",
  "select_item",
  "add_to_cart",
  "remove_from_cart",
  "add_to_wishlist",
  "view_cart",
  "begin_checkout",
  "add_shipping_info",
  "add_payment_info",
  "purchase",
  "refund",
  "subscribe",
  "unsubscribe",
  "form_submit",
  "error",
] as const;

/** One of {@link STANDARD_EVENTS}. */
export type StandardEvent = (typeof STANDARD_EVENTS)[number];

const STANDARD = new Set<string>(STANDARD_EVENTS);

// Other tools' names for standard events (Segment's "Order Completed", "Product Viewed"…), after snake-casing.
const ALIASES: Record<string, StandardEvent> = {
  pageview: "page_view",
  screenview: "screen_view",
  signup: "sign_up",
  register: "sign_up",
  signin: "login",
  sign_in: "login",
  log_in: "login",
  sign_out: "logout",
  signout: "logout",
  log_out: "logout",
  checkout: "begin_checkout",
  checkout_started: "begin_checkout",
  order_completed: "purchase",
  checkout_completed: "purchase",
  product_viewed: "view_item",
  product_added: "add_to_cart",
  product_removed: "remove_from_cart",
};

const CUSTOM = /^[a-z][a-z0-9_]{0,63}$/;

/** snake_case of any spelling ("Page View", "pageView", "page-view", "PAGE_VIEW", "page.view") */
export function toSnakeCase(raw: string): string {
  // Lookaheads keep every pattern linear: names come from clients, and "[A-Z]+" before "[A-Z][a-z]" backtracks
  // quadratically over a long run of capitals.
  return raw
    .replace(/([a-z0-9])(?=[A-Z])/g, "$1_")
    .replace(/([A-Z])(?=[A-Z][a-z])/g, "$1_")
    .replace(/[\s.-]+/g, "_")
    .toLowerCase()
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
}

/** The normalized event name: a standard one (custom: false) or a valid custom one (custom: true); null if invalid. */
export function normalizeEventName(raw: string): { name: string; custom: boolean } | null {
  const snake = toSnakeCase(raw);
  const name = Object.hasOwn(ALIASES, snake) ? ALIASES[snake] : snake;
  if (STANDARD.has(name)) return { name, custom: false };
  return CUSTOM.test(name) ? { name, custom: true } : null;
}

/**
 * The custom names ANALYTICS_CUSTOM_EVENTS allows, normalized like incoming names; undefined
 * (any valid name) when the list is empty. A name that could never match fails at start-up.
 */
export function customEventAllowlist(names: readonly string[]): ReadonlySet<string> | undefined {
  if (names.length === 0) return undefined;
  return new Set(names.map((raw) => {
    const normalized = normalizeEventName(raw);
    if (normalized === null) {
      throw new Error(`Invalid configuration: ANALYTICS_CUSTOM_EVENTS: not an event name: ${raw}`);
    }
    return normalized.name;
  }));
}
