/**
 * Sample data for the default email templates, shaped as the send path gets it: orders as
 * `public.order_email_data()` builds them (amounts in minor units), the rest as the app's
 * backend enqueues them. The preview command renders `SAMPLES` with `SAMPLE_BRAND`; the
 * template tests render the named orders, each of which exercises one case of the layout.
 */

/** A brand row with every optional field set, as `public.email_brand` holds it. */
export const SAMPLE_BRAND: Record<string, unknown> = {
  shop_name: "Northwind Goods",
  logo_url: "https://shop.example/logo.png",
  primary_color: "#2563eb",
  support_email: "help@shop.example",
  postal_address: "Northwind Goods Ltd, 12 Harbour Street, Portland, OR 97201, USA",
  shop_url: "https://shop.example",
  preferences_url: "https://shop.example/account/email",
  locale: "en-US",
  time_zone: "America/New_York",
};

/** One order line as `public.order_items_json()` writes it. */
function item(name: string, quantity: number, unitPrice: number, extra: Record<string, unknown> = {}) {
  return {
    product_id: `prod_${name.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`,
    name,
    sku: null,
    quantity,
    unit_price: unitPrice,
    line_total: quantity * unitPrice,
    currency: "USD",
    image_url: null,
    ...extra,
  };
}

const address = {
  name: "Ada Lovelace",
  line1: "221 Baker Street",
  line2: "Flat 2",
  city: "Springfield",
  state: "IL",
  postal_code: "62701",
  country: "US",
};

/** An order with every field empty that may be: the base the named orders override. */
function order(overrides: Record<string, unknown>): Record<string, unknown> {
  const base: Record<string, unknown> = {
    order_id: "5f0c6b1e-8d2a-4c1b-9a7e-3b6f2d9c4e10",
    order_number: null,
    ordered_at: "2026-12-02T15:04:05Z",
    customer_name: null,
    customer_email: "ada@example.com",
    currency: "USD",
    total: 0,
    subtotal: null,
    tax: null,
    shipping: null,
    discount: null,
    refunded: 0,
    refunded_in_full: false,
    shipping_address: null,
    billing_address: null,
    retry_url: null,
    items: [],
  };
  const merged = { ...base, ...overrides };
  // The legacy formatted amounts order_email_data() still carries (no template reads them).
  const minor = merged.currency === "JPY" ? 1 : 100;
  merged.amount = (Number(merged.total) / minor).toFixed(minor === 1 ? 0 : 2);
  merged.amount_refunded = (Number(merged.refunded) / minor).toFixed(minor === 1 ? 0 : 2);
  return merged;
}

/** One line: 2 × Linen shirt at $42.00, subtotal and total $84.00. */
export const ORDER_ONE_ITEM = order({
  order_number: "ORD-2026-000123",
  customer_name: "Ada Lovelace",
  total: 8400,
  subtotal: 8400,
  items: [item("Linen shirt", 2, 4200, { sku: "LS-BLU-M", image_url: "https://shop.example/img/linen-shirt.jpg" })],
  shipping_address: address,
});

const MANY = [
  ["Linen shirt", 2, 4200],
  ["Wool socks", 3, 1200],
  ["Canvas tote", 1, 2500],
  ["Leather belt", 1, 5500],
  ["Cotton T-shirt", 4, 1800],
  ["Rain jacket", 1, 12900],
  ["Beanie", 2, 1500],
  ["Scarf", 1, 3200],
  ["Sunglasses", 1, 8900],
  ["Water bottle", 2, 2200],
  ["Notebook", 5, 600],
  ["Enamel mug", 2, 1400],
] as const;

/** Twelve lines, some with images, with shipping and tax. */
export const ORDER_MANY_ITEMS = (() => {
  const items = MANY.map(([name, quantity, price], i) =>
    item(name, quantity, price, i % 3 === 0 ? { image_url: `https://shop.example/img/${i}.jpg` } : {})
  );
  const subtotal = items.reduce((sum, line) => sum + line.line_total, 0);
  return order({
    order_number: "ORD-2026-000124",
    customer_name: "Grace Hopper",
    items,
    subtotal,
    shipping: 0,
    tax: 4512,
    total: subtotal + 4512,
    shipping_address: address,
    billing_address: { ...address, line2: null, name: "Grace Hopper" },
  });
})();

/** A 10% discount, shipping and tax: 8400 − 840 + 500 + 611 = 8671. */
export const ORDER_WITH_DISCOUNT = order({
  order_number: "ORD-2026-000125",
  customer_name: "Ada Lovelace",
  items: [
    item("Linen shirt", 1, 4200, { image_url: "https://shop.example/img/linen-shirt.jpg" }),
    item("Wool socks", 3, 1400, { sku: "WS-GRY" }),
  ],
  subtotal: 8400,
  discount: 840,
  shipping: 500,
  tax: 611,
  total: 8671,
  shipping_address: address,
});

/** Nothing optional: no number, name, addresses, lines or parts of the total (an order created bare). */
export const ORDER_BARE = order({ total: 4999 });

/** A customer name that is markup: escaped in HTML, verbatim in text. */
export const ORDER_HOSTILE_NAME = order({
  ...ORDER_ONE_ITEM,
  customer_name: "<script>alert(1)</script>",
});

/** Yen, which has no minor units: 4200 is ¥4,200. */
export const ORDER_JPY = order({
  order_number: "ORD-2026-000126",
  customer_name: "Sei Shōnagon",
  currency: "JPY",
  items: [item("Matcha tin", 2, 2100, { currency: "JPY" })],
  subtotal: 4200,
  total: 4200,
});

/** The named orders, by name, for tests that go through them all. */
export const SAMPLE_ORDERS: Record<string, Record<string, unknown>> = {
  one_item: ORDER_ONE_ITEM,
  many_items: ORDER_MANY_ITEMS,
  with_discount: ORDER_WITH_DISCOUNT,
  bare: ORDER_BARE,
  hostile_name: ORDER_HOSTILE_NAME,
  jpy: ORDER_JPY,
};

/** One sample per default template key: what the preview shows and the screenshots are of. */
export const SAMPLES: Record<string, Record<string, unknown>> = {
  order_confirmation: ORDER_WITH_DISCOUNT,
  payment_failed: {
    ...ORDER_WITH_DISCOUNT,
    retry_url: "https://shop.example/checkout/retry/5f0c6b1e",
  },
  refund_issued: { ...ORDER_WITH_DISCOUNT, refunded: 4200, refunded_in_full: false, amount_refunded: "42.00" },
  password_reset: {
    name: "Ada",
    reset_url: "https://shop.example/account/reset?token=3q2-7Zb9xQk1mV0pLr8sT4uW6yA5cE2dF0gH1jK",
    expires_in_minutes: 60,
  },
  quote_submitted: { name: "Ada Lovelace", quote_id: "Q-2026-0042" },
};
