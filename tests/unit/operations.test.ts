import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { type Health, healthAnswer, visibleTo, worst } from "../../supabase/functions/operations/health.ts";
import { SCHEMA_VERSION } from "../../supabase/functions/operations/live.ts";
import { prometheusText } from "../../supabase/functions/operations/metrics.ts";

const component = (name: string, status: "HEALTHY" | "DEGRADED" | "CRITICAL", tenant: string | null, kind = "source") => ({
  component: `source:${name}`,
  kind,
  name,
  tenant_id: tenant,
  status,
  failing: [],
  figures: { total: 10, processed: 8, failed: 2, pending: 1, success_rate: 0.8, processing_ms: { p50: 1, p95: 2, p99: 3 } },
  checks: [],
  by_type: [],
}) as Health["components"][number];

const health: Health = {
  generated_at: "2026-12-02T10:00:00Z",
  window_minutes: 60,
  components: [
    component('with "quotes"\nand a line', "DEGRADED", null),
    component("tenant-a", "CRITICAL", "a"),
    component("endpoint", "HEALTHY", null, "endpoint"),
  ],
  alerts: [{ id: 1, tenant_id: "a", status: "open", severity: "ERROR" }],
};

describe("liveness", () => {
  it("expects the newest migration in supabase/migrations", () => {
    const newest = readdirSync(new URL("../../supabase/migrations/", import.meta.url)).sort().at(-1)!;
    expect(newest.split("_")[0]).toBe(SCHEMA_VERSION);
  });
});

describe("the health answer", () => {
  it("takes the worst component's status, and sums everything but the endpoints", () => {
    expect(worst([])).toBe("HEALTHY");
    const answer = healthAnswer(health);
    expect(answer.status).toBe("CRITICAL");
    expect(answer.overall).toEqual({ total: 20, processed: 16, failed: 4, pending: 2, success_rate: 0.8 });
  });

  it("shows a tenant only its own components and alerts", () => {
    const mine = visibleTo({ kind: "tenant", tenantId: "a" }, health);
    expect(mine.components.map((c) => c.name)).toEqual(["tenant-a"]);
    expect(mine.alerts).toHaveLength(1);
    expect(visibleTo({ kind: "tenant", tenantId: "b" }, health).components).toEqual([]);
  });
});

describe("Prometheus text", () => {
  const text = prometheusText(health);

  it("declares each family once, and escapes label values", () => {
    expect(text.match(/^# TYPE commerce_items_total gauge$/gm)).toHaveLength(1);
    expect(text).toContain('name="with \\"quotes\\"\\nand a line"');
    expect(text).toMatch(/^commerce_processing_milliseconds\{component="source:tenant-a",kind="source",quantile="0.99"\} 3$/m);
    expect(text).toMatch(/^commerce_alerts_open\{severity="ERROR"\} 1$/m);
    expect(text.endsWith("\n")).toBe(true);
  });

  it("leaves out figures that are not numbers", () => {
    expect(text).not.toMatch(/commerce_oldest_pending_minutes\{/);
    expect(text).not.toMatch(/ (NaN|null|undefined)$/m);
  });
});
