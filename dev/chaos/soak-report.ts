import { type Growth, MB, round } from "./soak-analysis.ts";
import type { SoakResult } from "./soak.ts";

/** The per-minute figures as a Markdown table (MB and ms), for a run's log and the README. */
export function soakTable(result: SoakResult): string {
  const names = Object.keys(result.minutes[0]?.rss ?? {});
  const head = [
    "min", "events", "p50 ms", "p99 ms", "track p99", ...names, "pg rss", "pg pss", "pg anon", "pg procs",
    "email pend", "email send", "deliv pend", "cpu ms/ev stripe-webhook", "cpu ms/ev pg", "cpu ms/ev harness", "load",
  ];
  const rows = result.minutes.map((m) => [
    m.minute + 1,
    m.sent,
    m.p50,
    m.p99,
    m.trackingP99,
    ...names.map((n) => m.rss[n]),
    m.postgresRss,
    m.postgresPss,
    m.postgresAnon,
    m.postgresProcesses,
    m.emailPending,
    m.emailSending,
    m.deliveriesPending,
    m.cpuPerEvent.stripeWebhook,
    m.cpuPerEvent.postgres,
    m.cpuPerEvent.harness,
    m.load,
  ].map(String));
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/** The growth verdicts, one line per process. */
export function growthLines(result: SoakResult): string[] {
  const line = (name: string, g: Growth, judged: boolean) =>
    `${name}: ${round(g.first / MB)} → ${round(g.last / MB)} MB (×${round(g.ratio, 3)}; first third's peak ${round(g.firstPeak / MB)} MB, ×${round(g.peakRatio, 3)}; ${g.samples} samples) ${judged ? (g.flat ? "flat" : "GREW") : "(not judged)"}`;
  return [
    ...Object.entries(result.growth).map(([name, g]) => line(name, g, true)),
    ...Object.entries(result.info).map(([name, g]) => line(name, g, false)),
  ];
}
