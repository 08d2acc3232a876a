import { describe, expect, it } from "vitest";
import { renderTemplate } from "../../supabase/functions/_shared/email/render.ts";

// The shape of the stored password_reset template: a variable inside a quoted attribute.
const reset = {
  subject: "Reset the password of {{name}}",
  html: `<p><a href="{{reset_url}}">Choose a new password</a> <a href='{{reset_url}}'>or here</a></p>`,
  text: "Choose a new password: {{reset_url}}",
};

describe("renderTemplate: HTML attributes", () => {
  const hostile = `https://shop.example/r?a=1&b=2" onmouseover="alert(1)' onclick='alert(2)`;
  const { html, text } = renderTemplate(reset, { name: "Ada", reset_url: hostile });

  it("escapes both quote characters, so a value cannot leave a double- or single-quoted attribute", () => {
    // Handlebars' escaping: & < > " ' ` = as entities (= too, so an unquoted attribute cannot be split).
    const escaped = "https://shop.example/r?a&#x3D;1&amp;b&#x3D;2&quot; onmouseover&#x3D;&quot;alert(1)&#x27; onclick&#x3D;&#x27;alert(2)";
    expect(html).toBe(`<p><a href="${escaped}">Choose a new password</a> <a href='${escaped}'>or here</a></p>`);
  });

  it("leaves the template's own quotes as the only ones in the html part", () => {
    const quotes = (s: string) => s.replace(/[^"']/g, "");
    expect(quotes(html)).toBe(quotes(reset.html));
  });

  it("keeps the value as it was in the text part, where no markup is interpreted", () => {
    expect(text).toBe(`Choose a new password: ${hostile}`);
  });
});

describe("renderTemplate: the subject header", () => {
  it.each([
    ["CR LF", "Ada\r\nBcc: victim@example.com"],
    ["LF", "Ada\nBcc: victim@example.com"],
    ["CR", "Ada\rBcc: victim@example.com"],
    ["repeated CR LF", "Ada\r\n\r\nBcc: victim@example.com"],
  ])("folds a variable holding %s to one line, so it cannot add a header", (_name, name) => {
    const { subject, text } = renderTemplate(reset, { name, reset_url: "https://shop.example/r" });
    expect(subject).toBe("Reset the password of Ada Bcc: victim@example.com");
    expect(subject).not.toMatch(/[\r\n]/);
    expect(text).toBe("Choose a new password: https://shop.example/r");
  });
});
