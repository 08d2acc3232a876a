import { describe, expect, it } from "vitest";
import { cursorParamOf, encodeCursor } from "../../supabase/functions/_shared/http/cursor.ts";

const at = "2026-12-02T10:00:00.123456Z";

describe("shared cursor with bigint ids (webhook_events)", () => {
  it("round-trips a bigint id and refuses ids a bigint cast would reject", () => {
    const param = cursorParamOf("bigint");
    expect(param.parse(encodeCursor({ at, id: "9223372036854775807" }))).toEqual({ at, id: "9223372036854775807" });
    for (const id of ["0", "-1", "01", "9223372036854775808", "1.5", "0b8e5f0e-7c1d-4a2b-9e3f-123456789abc"]) {
      expect(param.safeParse(encodeCursor({ at, id })).success, id).toBe(false);
    }
  });

  it("keeps uuid cursors and bigint cursors apart", () => {
    expect(cursorParamOf("uuid").safeParse(encodeCursor({ at, id: "42" })).success).toBe(false);
  });
});
