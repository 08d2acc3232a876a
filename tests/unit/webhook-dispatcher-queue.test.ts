import { describe, expect, it } from "vitest";
import type { Sql } from "../../supabase/functions/_shared/db.ts";
import { type AttemptRecord, deliveryQueue } from "../../supabase/functions/webhook-dispatcher/queue.ts";

const record = (body = "ok"): AttemptRecord => ({
  statusCode: 200,
  startedAt: new Date("2026-11-22T10:00:00Z"),
  durationMs: 12,
  responseBody: body,
  error: null,
});

/**
 * A client that answers complete_webhook_deliveries after `release()`, recording each batch. The
 * JSON comes in as the `::text::jsonb` fragment that jsonb() builds with the same client.
 */
function fakeSql(fail = false) {
  const batches: { delivery_id: string; response_body: string }[][] = [];
  const gates: (() => void)[] = [];
  const sql = ((_strings: TemplateStringsArray, value: string | { json: string }) => {
    if (typeof value === "string") return { json: value };
    const batch = JSON.parse(value.json);
    batches.push(batch);
    return new Promise((resolve, reject) =>
      gates.push(() =>
        fail
          ? reject(new Error("connection lost"))
          : resolve(batch.map((a: { delivery_id: string }) => ({ delivery_id: a.delivery_id, status: "SUCCESS" })))
      )
    );
  }) as unknown as Sql;
  const release = async () => {
    await new Promise((r) => setTimeout(r, 0));
    gates.shift()?.();
    await new Promise((r) => setTimeout(r, 0));
  };
  return { sql, batches, release };
}

describe("deliveryQueue.complete", () => {
  it("writes the first completion at once and gathers the ones that finish meanwhile into one batch", async () => {
    const { sql, batches, release } = fakeSql();
    const queue = deliveryQueue(sql);
    const first = queue.complete("d1", record(), 5);
    const later = ["d2", "d3", "d4"].map((id) => queue.complete(id, record(), 5));
    expect(batches.map((b) => b.map((a) => a.delivery_id))).toEqual([["d1"]]);
    await release();
    expect(await first).toBe("SUCCESS");
    expect(batches.map((b) => b.map((a) => a.delivery_id))).toEqual([["d1"], ["d2", "d3", "d4"]]);
    await release();
    expect(await Promise.all(later)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
  });

  it("fails every caller of a batch that could not be written", async () => {
    const { sql, release } = fakeSql(true);
    const queue = deliveryQueue(sql);
    const first = expect(queue.complete("d1", record(), 5)).rejects.toThrow("connection lost");
    const gathered = ["d2", "d3"].map((id) => expect(queue.complete(id, record(), 5)).rejects.toThrow("connection lost"));
    await release();
    await first;
    await release();
    await Promise.all(gathered);
  });

  it("sends a partner's NUL byte as the replacement character, which jsonb can hold", async () => {
    const { sql, batches, release } = fakeSql();
    const done = deliveryQueue(sql).complete("d1", record("a\u0000b"), 5);
    await release();
    await done;
    expect(batches[0][0].response_body).toBe("a\ufffdb");
  });
});
