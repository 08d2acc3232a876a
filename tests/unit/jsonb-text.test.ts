import { describe, expect, it } from "vitest";
import { jsonbText } from "../../supabase/functions/_shared/jsonb-text.ts";

describe("jsonbText", () => {
  it("replaces the escape of U+0000 with the replacement character", () => {
    const json = JSON.stringify({ note: "a\u0000b", list: ["\u0000"] });
    expect(JSON.parse(jsonbText(json))).toEqual({ note: "a\ufffdb", list: ["\ufffd"] });
  });

  it("keeps an escaped backslash followed by the text u0000 as sent", () => {
    const json = JSON.stringify({ path: "C:\\u0000", both: "\\\u0000" });
    expect(JSON.parse(jsonbText(json))).toEqual({ path: "C:\\u0000", both: "\\\ufffd" });
  });

  it("returns text without NUL escapes unchanged", () => {
    const json = JSON.stringify({ a: "plain \\ text \u00e9" });
    expect(jsonbText(json)).toBe(json);
  });
});
