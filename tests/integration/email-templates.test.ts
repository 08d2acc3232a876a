import { beforeAll, describe, expect, it } from "vitest";
import {
  ORDER_BARE,
  ORDER_HOSTILE_NAME,
  ORDER_JPY,
  ORDER_MANY_ITEMS,
  ORDER_ONE_ITEM,
  ORDER_WITH_DISCOUNT,
  SAMPLE_BRAND,
  SAMPLES,
} from "../../dev/email/samples.ts";
import { type EmailTemplate, renderTemplate } from "../../supabase/functions/_shared/email/render.ts";
import { emailQueue } from "../../supabase/functions/email-service/queue.ts";
import { testSql } from "../helpers/stack.ts";

// The five default templates as the migrations install them, loaded as the drain loads them
// (with the layout and the brand row), rendered with the sample data: what a customer reads.
const sql = testSql();
const KEYS = ["order_confirmation", "payment_failed", "refund_issued", "password_reset", "quote_submitted"];
let stored: Map<string, EmailTemplate>;

beforeAll(async () => {
  stored = await emailQueue(sql).templates(KEYS);
});

/** The stored template `key`, with the sample brand unless `brand` says otherwise. */
const template = (key: string, brand: Record<string, unknown> | null = SAMPLE_BRAND): EmailTemplate => {
  const found = stored.get(key);
  if (!found) throw new Error(`no template ${key}`);
  return brand === null ? found : { ...found, brand };
};
const render = (key: string, data: Record<string, unknown>, brand?: Record<string, unknown> | null) =>
  renderTemplate(template(key, brand), data);

/** The html part as a reader sees it: tags dropped, entities and whitespace folded. */
const visible = (html: string) =>
  html.replace(/<style[\s\S]*?<\/style>/g, "").replace(/<[^>]+>/g, " ")
    .replace(/&#x27;/g, "'").replace(/&#x3D;/g, "=").replace(/&amp;/g, "&").replace(/&nbsp;|&zwnj;|&#847;/g, " ")
    .replace(/\s+/g, " ");

describe("the stored defaults", () => {
  it("are all installed, in the default layout, with a subject, a preheader and both parts", () => {
    expect([...stored.keys()].sort()).toEqual([...KEYS].sort());
    for (const key of KEYS) {
      const t = template(key, null);
      expect(t.layout?.html, key).toContain("{{> content}}");
      expect(t.preheader, key).toBeTruthy();
      expect(t.transactional, key).toBe(true);
    }
  });

  it("render every sample with the brand row as stored (the seed's, or only shop_name set)", () => {
    for (const key of KEYS) {
      const brand = template(key, null).brand as Record<string, unknown>;
      expect(brand.shop_name, key).toBeTruthy();
      const { subject, html, text } = render(key, SAMPLES[key], null);
      expect(subject, key).not.toMatch(/\{\{|\}\}/);
      expect(html, key).toContain(`<title>${brand.shop_name}</title>`);
      expect(text, key).toContain(`\n--\n${brand.shop_name}\n`);
      expect(html, key).not.toContain("undefined");
    }
  });

  it("write a text part that reads on its own: no markup, no entity, lines of at most 78 characters", () => {
    for (const key of KEYS) {
      const { text } = render(key, SAMPLES[key]);
      expect(text, key).not.toMatch(/<[a-z/][^>]*>|&[a-z#0-9]+;/i);
      // Data may be longer than a line (a URL); the template's own words are not.
      const long = text.split("\n").filter((line) => line.length > 78 && !/https?:\/\//.test(line));
      expect(long, key).toEqual([]);
    }
  });
});

describe("the layout", () => {
  it("hides the preheader at the top of the html part and sets the colour scheme", () => {
    const { html } = render("order_confirmation", ORDER_ONE_ITEM);
    expect(html).toMatch(
      /<div style="display:none;[^"]*max-height:0[^"]*">Thanks for shopping with Northwind Goods\. Here is your receipt for \$84\.00\./,
    );
    expect(html).toContain(`<meta name="color-scheme" content="light dark">`);
    expect(html).toContain(`<meta name="supported-color-schemes" content="light dark">`);
    expect(html).toContain("max-width:600px");
  });

  it("shows the logo when the brand has one, else the shop's name", () => {
    expect(render("quote_submitted", SAMPLES.quote_submitted).html)
      .toContain(`<img src="https://shop.example/logo.png" alt="Northwind Goods"`);
    const plain = render("quote_submitted", SAMPLES.quote_submitted, { ...SAMPLE_BRAND, logo_url: null }).html;
    expect(plain).not.toContain("<img");
    expect(plain).toMatch(/<span [^>]*>Northwind Goods<\/span>/);
  });

  it("puts the postal address and the support address in the footer of both parts", () => {
    for (const part of ["html", "text"] as const) {
      const body = render("password_reset", SAMPLES.password_reset)[part];
      expect(body).toContain("Northwind Goods Ltd, 12 Harbour Street, Portland, OR 97201, USA");
      expect(body).toContain("help@shop.example");
    }
  });

  it("shows the preferences link only in an email a customer may opt out of", () => {
    for (const key of KEYS) {
      const { html, text } = render(key, SAMPLES[key]);
      expect(html, key).not.toContain("https://shop.example/account/email");
      expect(text, key).not.toContain("https://shop.example/account/email");
    }
    const optional = { ...template("quote_submitted"), transactional: false };
    const { html, text } = renderTemplate(optional, SAMPLES.quote_submitted);
    expect(html).toContain(`<a href="https://shop.example/account/email"`);
    expect(text).toContain("Email preferences: https://shop.example/account/email");
  });

  it("draws buttons in the brand's colour", () => {
    const { html } = render("password_reset", SAMPLES.password_reset, { ...SAMPLE_BRAND, primary_color: "#0f766e" });
    expect(html).toMatch(
      /<td align="center" bgcolor="#0f766e" style="[^"]*background-color:#0f766e;[^"]*"><a href="https:\/\/shop\.example\/account\/reset\?token/,
    );
  });
});

describe("order_confirmation", () => {
  it("greets by name and lists the order's one line with its quantity, unit price and total", () => {
    const { subject, html, text } = render("order_confirmation", ORDER_ONE_ITEM);
    expect(subject).toBe("Order confirmed: ORD-2026-000123");
    expect(visible(html)).toContain("Hi Ada Lovelace,");
    expect(visible(html)).toContain("Linen shirt Qty 2 × $42.00 · SKU LS-BLU-M $84.00");
    expect(html).toContain(`<img src="https://shop.example/img/linen-shirt.jpg" width="64"`);
    expect(text).toContain("Hi Ada Lovelace,");
    expect(text).toContain("\n- Linen shirt: 2 × $42.00 = $84.00\n");
    expect(text).toContain("Subtotal: $84.00\nTotal: $84.00\n");
    expect(text).toContain("Date: December 2, 2026");
  });

  it("lists many lines, one each, in order", () => {
    const { html, text } = render("order_confirmation", ORDER_MANY_ITEMS);
    const items = ORDER_MANY_ITEMS.items as { name: string; quantity: number; line_total: number }[];
    expect(items).toHaveLength(12);
    const lines = text.split("\n").filter((line) => line.startsWith("- "));
    expect(lines).toHaveLength(12);
    items.forEach((item, i) => {
      const total = `$${(item.line_total / 100).toFixed(2)}`;
      expect(lines[i]).toMatch(new RegExp(`^- ${item.name}: ${item.quantity} × \\$[\\d.]+ = \\${total}$`));
      expect(visible(html)).toContain(`${item.name} Qty ${item.quantity} × `);
    });
    expect(text).toContain("Subtotal: $654.00\nShipping: Free\nTax: $45.12\nTotal: $699.12\n");
    expect(text).toContain("Ship to:\nAda Lovelace\n221 Baker Street\nFlat 2\nSpringfield, IL 62701\nUS\n");
    expect(text).toContain("Billing address:\nGrace Hopper\n221 Baker Street\nSpringfield, IL 62701\nUS\n");
  });

  it("shows the discount, shipping and tax between subtotal and total", () => {
    const { html, text } = render("order_confirmation", ORDER_WITH_DISCOUNT);
    expect(text).toContain("Subtotal: $84.00\nDiscount: −$8.40\nShipping: $5.00\nTax: $6.11\nTotal: $86.71\n");
    expect(visible(html)).toContain("Subtotal $84.00 Discount −$8.40 Shipping $5.00 Tax $6.11 Total $86.71");
  });

  it("leaves out every optional block an order does not have, and refers to it by id", () => {
    const { subject, html, text } = render("order_confirmation", ORDER_BARE);
    expect(subject).toBe(`Order confirmed: ${ORDER_BARE.order_id}`);
    for (const body of [visible(html), text]) {
      expect(body).toContain("Hello,");
      expect(body).toContain(String(ORDER_BARE.order_id));
      expect(body).toMatch(/Total:? \$49\.99/);
      for (const absent of ["Hi ", "Items", "Subtotal", "Discount", "Shipping", "Tax", "Ship to", "Billing address"]) {
        expect(body).not.toContain(absent);
      }
    }
  });

  it("escapes a name that is markup in the html part and keeps it verbatim in the text part", () => {
    const { html, text } = render("order_confirmation", ORDER_HOSTILE_NAME);
    expect(html).toContain("Hi &lt;script&gt;alert(1)&lt;/script&gt;,");
    expect(html).not.toContain("<script>");
    expect(text).toContain("Hi <script>alert(1)</script>,");
  });

  it("writes yen without minor units", () => {
    const { html, text } = render("order_confirmation", ORDER_JPY);
    expect(text).toContain("- Matcha tin: 2 × ¥2,100 = ¥4,200\n");
    expect(text).toContain("Subtotal: ¥4,200\nTotal: ¥4,200\n");
    expect(visible(html)).toContain("Total ¥4,200");
  });

  it("refuses data without a required value, naming it", () => {
    const { total: _, ...noTotal } = ORDER_ONE_ITEM;
    expect(() => render("order_confirmation", noTotal)).toThrow("missing template variable(s): total");
    const broken = {
      ...ORDER_ONE_ITEM,
      items: [{ name: "Linen shirt", quantity: 2, unit_price: 4200, currency: "USD" }],
    };
    expect(() => render("order_confirmation", broken)).toThrow("missing template variable(s): line_total");
  });
});

describe("payment_failed", () => {
  it("says what failed and links the order's retry link", () => {
    const { subject, html, text } = render("payment_failed", SAMPLES.payment_failed);
    expect(subject).toBe("Your payment for order ORD-2026-000125 did not go through");
    expect(visible(html)).toContain("We could not charge $86.71 for order ORD-2026-000125");
    expect(html).toMatch(
      /<a href="https:\/\/shop\.example\/checkout\/retry\/5f0c6b1e"[^>]*>Complete your payment<\/a>/,
    );
    expect(text).toContain("Complete your payment:\nhttps://shop.example/checkout/retry/5f0c6b1e\n");
  });

  it("links the shop without a retry link, and says what to do without either", () => {
    const toShop = render("payment_failed", ORDER_BARE);
    expect(toShop.html).toMatch(/<a href="https:\/\/shop\.example"[^>]*>Return to Northwind Goods<\/a>/);
    expect(toShop.text).toContain("payment method:\nhttps://shop.example\n");
    const neither = render("payment_failed", ORDER_BARE, { ...SAMPLE_BRAND, shop_url: null });
    expect(neither.html).not.toContain("Complete your payment");
    expect(neither.html).not.toContain("Return to");
    expect(neither.text).toContain("please place it again with another payment method");
  });
});

describe("refund_issued", () => {
  it("says how much was refunded of what, and when it arrives", () => {
    const { subject, html, text } = render("refund_issued", SAMPLES.refund_issued);
    expect(subject).toBe("Your refund for order ORD-2026-000125");
    expect(text).toContain("In all, $42.00 of the $86.71 you paid has been refunded.");
    expect(text).toContain("Order total: $86.71\nRefunded: $42.00\n");
    expect(visible(html)).toContain("partial refund");
    for (const body of [visible(html), text.replace(/\n/g, " ")]) {
      expect(body).toContain("usually arrives in 5–10 business days");
    }
  });

  it("says so when the refund is in full", () => {
    const full = { ...ORDER_WITH_DISCOUNT, refunded: 8671, refunded_in_full: true };
    const { html, text } = render("refund_issued", full);
    expect(text).toContain("We have refunded order ORD-2026-000125 in full: $86.71.");
    expect(text).toContain("Refunded in full: $86.71");
    expect(visible(html)).not.toContain("partial");
  });
});

describe("password_reset", () => {
  it("has a button, the link written out in both parts, and what to do if it was not you", () => {
    const { subject, html, text } = render("password_reset", SAMPLES.password_reset);
    const url = String(SAMPLES.password_reset.reset_url);
    expect(subject).toBe("Reset your Northwind Goods password");
    // Handlebars escapes "=" too, so that an unquoted attribute cannot be split.
    expect(html.split(`href="${url.replace(/=/g, "&#x3D;")}"`)).toHaveLength(3);
    expect(visible(html)).toContain(`copy this link into your browser: ${url}`);
    expect(text).toContain(`\n\n${url}\n\n`);
    expect(text).toContain("(it works for 60 minutes)");
    expect(text).toContain("If you did not ask for this, ignore this email");
  });

  it("renders the data the app has always sent (reset_url alone), and refuses none", () => {
    const { text } = render("password_reset", { reset_url: "https://shop.example/r" }, null);
    expect(text).toContain("Hello,\n");
    expect(text).not.toContain("minutes");
    expect(() => render("password_reset", {}, null)).toThrow(/^missing template variable\(s\): reset_url$/);
  });
});

describe("quote_submitted", () => {
  it("names the customer and the quote, and says when they will hear back", () => {
    const { subject, html, text } = render("quote_submitted", SAMPLES.quote_submitted);
    expect(subject).toBe("We received your quote request Q-2026-0042");
    expect(visible(html)).toContain("Hi Ada Lovelace,");
    for (const body of [visible(html), text.replace(/\n/g, " ")]) {
      expect(body).toContain("Your reference is Q-2026-0042");
      expect(body).toContain("reply within one business day");
    }
  });

  it("escapes a hostile name in html and keeps it in text", () => {
    const { html, text } = render("quote_submitted", { name: "<script>alert(1)</script>", quote_id: "Q-1" });
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toContain("<script>");
    expect(text).toContain("Hi <script>alert(1)</script>,");
  });
});
