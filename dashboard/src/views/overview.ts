import { html, nothing } from "lit-html";
import { api } from "../api.ts";
import { type Bucket, drawSeries } from "../chart.ts";
import { here, withParams } from "../router.ts";
import { badge, confirmAction, empty, percent, toast, when } from "../ui.ts";

const WINDOWS: [string, string][] = [["60", "Last hour"], ["1440", "Last 24 hours"], ["10080", "Last 7 days"]];

interface Component {
  component: string;
  kind: string;
  name: string;
  status: string;
  failing: string[];
  figures: { total: number; success_rate: number | null; pending: number; failed: number };
}

async function act(id: number, verb: "acknowledge" | "resolve", rerender: () => void) {
  if (verb === "resolve" && !(await confirmAction("Resolve this alert?", "It reopens if the check still fails.", "Resolve"))) return;
  await api(`operations/alerts/${id}/${verb}`, { method: "POST" });
  toast(verb === "resolve" ? "Alert resolved." : "Alert acknowledged.");
  rerender();
}

/** Overview: one card per provider, source, email and outbound; open alerts; events and success over the window. */
export async function overview(rerender: () => void) {
  const window = here().params.get("window") ?? "1440";
  const [health, series] = await Promise.all([
    api(`operations/health?window=${window}`),
    api<{ buckets: Bucket[]; totals: { total: number } }>(`operations/series?window=${window}&bucket=${Number(window) <= 60 ? 5 : 60}`),
  ]);
  const cards = (health.components as Component[]).filter((c) => c.kind !== "endpoint");
  // Drawn once lit-html has put the chart's element on the page.
  setTimeout(() => {
    const target = document.getElementById("series");
    if (target) drawSeries(target, series.buckets);
  }, 0);
  return html`
    <header class="view-head">
      <h1>Overview ${badge(health.status)}</h1>
      <label>Window
        <select @change=${(e: Event) => withParams({ window: (e.target as HTMLSelectElement).value })}>
          ${WINDOWS.map(([value, label]) => html`<option value=${value} ?selected=${value === window}>${label}</option>`)}
        </select>
      </label>
    </header>
    <section class="cards" aria-label="Components">
      ${cards.map((c) => html`
        <article class="card status-${c.status.toLowerCase()}" data-component=${c.component}>
          <h2>${c.name} ${badge(c.status)}</h2>
          <p class="kind">${c.kind}</p>
          <dl>
            <dt>Total</dt><dd data-figure="total">${c.figures.total}</dd>
            <dt>Success</dt><dd>${percent(c.figures.success_rate)}</dd>
            <dt>Pending</dt><dd>${c.figures.pending}</dd>
          </dl>
          ${c.failing.length ? html`<p class="failing">Failing: ${c.failing.join(", ")}</p>` : nothing}
          ${c.kind === "source" || c.kind === "provider"
            ? html`<a href="#/events?provider=${encodeURIComponent(c.component)}">Events</a>` : nothing}
        </article>`)}
    </section>
    <section aria-labelledby="alerts-title">
      <h2 id="alerts-title">Open alerts</h2>
      ${health.alerts.length === 0 ? empty("No open alerts.", "Alerts open when a check fails and resolve when it passes again.") : html`
        <table>
          <thead><tr><th>Severity</th><th>Alert</th><th>Component</th><th>Value</th><th>Since</th><th>Recommendation</th><th></th></tr></thead>
          <tbody>${health.alerts.map((a: any) => html`
            <tr data-alert=${a.id}>
              <td>${badge(a.severity)}</td><td>${a.alert_type}${a.status === "acknowledged" ? html` <small>(acknowledged)</small>` : nothing}</td>
              <td>${a.component}</td><td>${a.value} / ${a.threshold}</td><td>${when(a.first_seen_at)}</td>
              <td>${a.recommendation}</td>
              <td class="actions">
                ${a.status === "open" ? html`<button @click=${() => act(a.id, "acknowledge", rerender)}>Acknowledge</button>` : nothing}
                <button @click=${() => act(a.id, "resolve", rerender)}>Resolve</button>
              </td>
            </tr>`)}</tbody>
        </table>`}
    </section>
    <section aria-labelledby="chart-title">
      <h2 id="chart-title">Inbound events and success rate</h2>
      ${series.totals.total === 0 ? empty("No events in this window.") : html`<div id="series" class="chart"></div>`}
    </section>`;
}
