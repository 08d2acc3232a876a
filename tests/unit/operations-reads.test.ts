import { describe, expect, it } from "vitest";
import { encodeCursor, pageOf } from "../../supabase/functions/_shared/http/cursor.ts";
import { emailsQuery, eventsQuery, seriesQuery } from "../../supabase/functions/operations/schema.ts";

describe("the dashboard's query strings", () => {
  it("events: one status or a comma-separated list, and the page defaults", () => {
    expect(eventsQuery.parse({ status: "failed" })).toEqual({ status: ["failed"], limit: 50 });
    expect(eventsQuery.parse({ status: "failed, unmatched", limit: "10" })).toEqual({
      status: ["failed", "unmatched"],
      limit: 10,
    });
    for (const bad of [{ status: "" }, { status: "lost" }, { status: "failed,lost" }, { q: "x".repeat(201) }, { ids: "1" }]) {
      expect(eventsQuery.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it("events and emails: each takes only its own kind of cursor", () => {
    const bigint = encodeCursor({ at: "2026-12-02T10:00:00.000001Z", id: "42" });
    const uuid = encodeCursor({ at: "2026-12-02T10:00:00.000001Z", id: "9b2f1c1e-8f6a-4c1e-9b1a-2f1c1e8f6a4c" });
    expect(eventsQuery.parse({ cursor: bigint }).cursor).toEqual({ at: "2026-12-02T10:00:00.000001Z", id: "42" });
    expect(eventsQuery.safeParse({ cursor: uuid }).success).toBe(false);
    expect(emailsQuery.parse({ cursor: uuid }).cursor?.id).toBe("9b2f1c1e-8f6a-4c1e-9b1a-2f1c1e8f6a4c");
    expect(emailsQuery.safeParse({ cursor: bigint }).success).toBe(false);
  });

  it("series: a day of hours by default, at most 2000 buckets", () => {
    expect(seriesQuery.parse({})).toEqual({ window: 1440, bucket: 60 });
    expect(seriesQuery.safeParse({ window: "2000", bucket: "1" }).success).toBe(true);
    expect(seriesQuery.safeParse({ window: "2001", bucket: "1" }).success).toBe(false);
    expect(seriesQuery.safeParse({ component: "email" }).success).toBe(false);
  });
});

describe("pageOf", () => {
  const rows = [1, 2, 3].map((n) => ({ id: String(n), cursor_at: `2026-12-02T10:00:0${n}.000000Z`, n }));

  it("answers `limit` rows without their cursor_at, and a cursor only when one was left over", () => {
    expect(pageOf(rows, 2)).toEqual({
      data: [{ id: "1", n: 1 }, { id: "2", n: 2 }],
      next_cursor: encodeCursor({ at: "2026-12-02T10:00:02.000000Z", id: "2" }),
    });
    expect(pageOf(rows, 3)).toEqual({ data: rows.map(({ cursor_at: _, ...row }) => row), next_cursor: null });
  });
});
