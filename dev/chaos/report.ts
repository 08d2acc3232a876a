/** One scenario's figures: what was sent, what the system did, and whether its promises held. */
export interface ScenarioResult {
  scenario: string;
  sent: number;
  effects: number;
  lost: number;
  duplicated: number;
  /**
   * Repeats that a key let the system or a receiver discard: event ids at the webhook
   * receivers, Resend's idempotency keys, `webhook-id` at partners' receivers.
   */
  absorbed: number;
  refused: number;
  wrong: number;
  pass: boolean;
  /** What a failing figure was about, or (starting "info:") what else the run saw, for the reader of the table. */
  notes: string[];
}

const COLUMNS: (keyof ScenarioResult)[] = ["scenario", "sent", "effects", "lost", "duplicated", "absorbed", "refused", "wrong", "pass"];

/** The table `npm run chaos` prints: one row per scenario, then notes on any that failed. */
export function table(results: ScenarioResult[]): string {
  const rows = results.map((r) => COLUMNS.map((c) => (c === "pass" ? (r.pass ? "pass" : "FAIL") : String(r[c]))));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => "| " + cells.map((cell, i) => cell.padEnd(widths[i])).join(" | ") + " |";
  const out = [line(COLUMNS), "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|", ...rows.map(line)];
  for (const r of results) for (const note of r.notes) out.push(`  ${r.scenario}: ${note}`);
  return out.join("\n");
}
