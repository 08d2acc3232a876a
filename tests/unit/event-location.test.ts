import { describe, expect, it } from "vitest";
import { locate, locationProblem } from "../../supabase/functions/_shared/event-location.ts";

describe("locationProblem", () => {
  it.each([
    "x-github-delivery",
    "X-Shopify-Webhook-Id",
    "$.id",
    "$.event.data[0].id",
    "$.MessageStatus",
    "{$.event.object_type}.{$.event.action}",
    "{x-github-event}:{$.action}",
    `$.${"a".repeat(198)}`, // 200 characters, the limit
  ])("accepts %s", (location) => {
    expect(locationProblem(location)).toBeNull();
  });

  it.each([
    ["a bare $", "$"],
    ["a path without a dot", "$id"],
    ["a space", "id with space"],
    ["an unclosed brace", "{unclosed"],
    ["a stray closing brace", "{$.a}}"],
    ["a stray opening brace", "{{$.a}"],
    ["text outside braces with a brace", "{$.a}.}"],
    ["a bad part in a template", "{$.a}.{not a path}"],
    ["an empty string", ""],
    ["201 characters", `$.${"a".repeat(199)}`],
  ])("refuses %s", (_label, location) => {
    expect(locationProblem(location)).toEqual(expect.any(String));
  });
});

describe("locate", () => {
  const headers = new Headers({
    "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
    "x-topic": "orders/create",
  });
  const payload = {
    id: 42,
    live: false,
    type: "invoice.paid",
    event: {
      id: "ev_1",
      object_type: "lead",
      action: "created",
      data: [{ id: "first" }, { id: "second" }],
      nothing: null,
    },
  };

  it.each([
    ["a header, whatever its case", "x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"],
    ["a header named in another case", "X-TOPIC", "orders/create"],
    ["a top-level string", "$.type", "invoice.paid"],
    ["a nested path", "$.event.id", "ev_1"],
    ["an array index", "$.event.data[1].id", "second"],
    ["a number, as a string", "$.id", "42"],
    ["a boolean, as a string", "$.live", "false"],
    ["a template", "{$.event.object_type}.{$.event.action}", "lead.created"],
    ["a template mixing a header and a path", "{x-topic}#{$.id}", "orders/create#42"],
  ])("reads %s", (_label, location, expected) => {
    expect(locate(location, headers, payload)).toBe(expected);
  });

  it.each([
    ["a missing header", "x-missing"],
    ["a missing path", "$.event.missing"],
    ["a path through a missing object", "$.nope.id"],
    ["a path through a string", "$.type.id"],
    ["an index past the end", "$.event.data[5].id"],
    ["an object", "$.event"],
    ["an array", "$.event.data"],
    ["a null", "$.event.nothing"],
    ["a template with a missing part", "{$.event.object_type}.{$.event.verb}"],
    ["a template with a missing header", "{x-missing}.{$.id}"],
  ])("returns null for %s", (_label, location) => {
    expect(locate(location, headers, payload)).toBeNull();
  });

  it("returns null for a path into a body that is not an object", () => {
    expect(locate("$.id", headers, null)).toBeNull();
    expect(locate("$.id", headers, "id=1")).toBeNull();
  });

  it("reads form parameters parsed into an object", () => {
    const form = Object.fromEntries(new URLSearchParams("MessageSid=SM1&MessageStatus=delivered"));
    expect(locate("$.MessageStatus", new Headers(), form)).toBe("delivered");
  });
});
