import type { Health } from "./health.ts";

const STATUS_VALUE = { HEALTHY: 0, DEGRADED: 1, CRITICAL: 2 } as const;
const QUANTILES = { p50: "0.5", p95: "0.95", p99: "0.99" } as const;

/** A Prometheus label value: backslash, double quote and newline escaped, as the text format requires. */
const label = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

interface Family {
  name: string;
  help: string;
  samples: { labels: Record<string, string>; value: number | null | undefined }[];
}

function render(families: Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} gauge`);
    for (const sample of family.samples) {
      if (sample.value === null || sample.value === undefined || !Number.isFinite(Number(sample.value))) continue;
      const labels = Object.entries(sample.labels).map(([key, value]) => `${key}="${label(value)}"`).join(",");
      lines.push(`${family.name}{${labels}} ${Number(sample.value)}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * `GET /operations/metrics`: the health figures in the Prometheus text format, so they are the
 * same numbers the health answer and the dashboard show. Gauges over the health window.
 */
export function prometheusText(health: Health): string {
  const per = (name: string, help: string, pick: (figures: Record<string, unknown>) => unknown): Family => ({
    name,
    help,
    samples: health.components.map((c) => ({
      labels: { component: c.component, kind: c.kind, name: c.name },
      value: pick(c.figures) as number | null,
    })),
  });
  const times = (quantile: "p50" | "p95" | "p99") => (f: Record<string, unknown>) =>
    (f.processing_ms as Record<string, number | null> | undefined)?.[quantile];
  const severities = ["INFO", "WARNING", "ERROR", "CRITICAL"];
  return render([
    per("commerce_items_total", `Items received in the last ${health.window_minutes} minutes.`, (f) => f.total),
    per("commerce_items_processed", "Items processed in the window.", (f) => f.processed),
    per("commerce_items_failed", "Items failed (or unmatched) in the window.", (f) => f.failed),
    per("commerce_items_pending", "Items waiting to be processed, at any age.", (f) => f.pending),
    per("commerce_success_ratio", "Processed share of the settled items in the window.", (f) => f.success_rate),
    per("commerce_attempts_average", "Average attempts per item in the window.", (f) => f.avg_attempts),
    per("commerce_duplicates", "Redeliveries detected in the window.", (f) => f.duplicates),
    per("commerce_oldest_pending_minutes", "Age of the oldest waiting item.", (f) => f.oldest_pending_minutes),
    {
      name: "commerce_processing_milliseconds",
      help: "Time from receipt (or enqueue) to processing, by quantile.",
      samples: health.components.flatMap((c) =>
        (["p50", "p95", "p99"] as const).map((q) => ({
          labels: { component: c.component, kind: c.kind, quantile: QUANTILES[q] },
          value: times(q)(c.figures),
        }))
      ),
    },
    {
      name: "commerce_health_status",
      help: "0 healthy, 1 degraded, 2 critical.",
      samples: health.components.map((c) => ({
        labels: { component: c.component, kind: c.kind },
        value: STATUS_VALUE[c.status],
      })),
    },
    {
      name: "commerce_alerts_open",
      help: "Unresolved alerts by severity.",
      samples: severities.map((severity) => ({
        labels: { severity },
        value: health.alerts.filter((a) => a.severity === severity).length,
      })),
    },
  ]);
}
