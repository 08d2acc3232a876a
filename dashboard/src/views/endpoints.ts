import { html, nothing } from "lit-html";
import { api } from "../api.ts";
import { badge, confirmAction, dialog, empty, percent, toast, when } from "../ui.ts";

async function run(label: string, call: () => Promise<unknown>, rerender: () => void) {
  try {
    await call();
    toast(label);
    rerender();
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), "error");
  }
}

async function rotate(endpoint: any, rerender: () => void) {
  if (!(await confirmAction("Rotate the signing secret?", "The old secret keeps signing alongside the new one for 24 hours.", "Rotate"))) return;
  const rotated = await api(`webhook-endpoints/${endpoint.id}/rotate-secret`, { method: "POST" });
  await dialog("The new secret", html`<p>Give it to the partner now: it is not shown again.</p><pre class="secret">${rotated.secret}</pre>`, [
    { label: "I have copied it", value: "ok" },
  ]);
  rerender();
}

/** Partner endpoints: health from the operations API, and each endpoint's controls. */
export async function endpoints(rerender: () => void) {
  const [list, health] = await Promise.all([api("webhook-endpoints?limit=100"), api("operations/health?window=1440")]);
  const figures = new Map((health.components as any[]).filter((c) => c.kind === "endpoint").map((c) => [c.component.slice(9), c]));
  return html`
    <header class="view-head"><h1>Partner endpoints</h1></header>
    ${list.data.length === 0 ? empty("No partner endpoints yet.", "Register one with POST /functions/v1/webhook-endpoints.") : html`
      <table>
        <thead><tr><th>URL</th><th>Status</th><th>Circuit</th><th>Success (24 h)</th><th>Avg response</th><th></th></tr></thead>
        <tbody>${list.data.map((e: any) => {
          const h = figures.get(e.id);
          return html`<tr data-endpoint=${e.id}>
            <td><a href="#/endpoints/${e.id}">${e.url}</a></td>
            <td>${e.active ? badge(h?.status ?? "HEALTHY") : badge("DISABLED")}</td><td>${e.circuit_state}</td>
            <td>${percent(h?.figures.success_rate)}</td><td>${h?.figures.avg_response_ms ?? "—"} ms</td>
            <td class="actions">
              <button @click=${() => run("Test event sent.", () => api(`webhook-endpoints/${e.id}/test`, { method: "POST" }), rerender)}>Send test</button>
              <button @click=${() => rotate(e, rerender)}>Rotate secret</button>
              <button class=${e.active ? "danger" : ""} @click=${async () => {
                if (e.active && !(await confirmAction("Disable this endpoint?", "It receives nothing until enabled again.", "Disable"))) return;
                await run(e.active ? "Endpoint disabled." : "Endpoint enabled.", () => api(`webhook-endpoints/${e.id}`, { method: "PATCH", body: { active: !e.active } }), rerender);
              }}>${e.active ? "Disable" : "Enable"}</button>
            </td></tr>`;
        })}</tbody>
      </table>`}`;
}

/** One endpoint's deliveries with every attempt; replay one, or recover a time range. */
export async function endpointDetail(id: string, rerender: () => void) {
  const page = await api(`webhook-endpoints/${id}/deliveries?limit=50`);
  const recover = async (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    const from = new Date(String(data.get("from"))).toISOString();
    const to = new Date(String(data.get("to"))).toISOString();
    const dry = await api("operations/actions/recover-endpoint", { body: { endpoint_id: id, from, to, dry_run: true } });
    if (!(await confirmAction(`Replay ${dry.matched} delivery(ies)?`, "Every failed or exhausted delivery created in this range is sent again.", `Replay ${dry.matched}`))) return;
    await run("Deliveries queued again.", () => api("operations/actions/recover-endpoint", { body: { endpoint_id: id, from, to } }), rerender);
  };
  return html`
    <header class="view-head"><h1>Deliveries</h1><a href="#/endpoints">All endpoints</a></header>
    <form class="filters" @submit=${recover} aria-label="Recover a time range">
      <label>From<input name="from" type="datetime-local" required></label>
      <label>To<input name="to" type="datetime-local" required></label>
      <button type="submit">Recover failed deliveries…</button>
    </form>
    ${page.data.length === 0 ? empty("No deliveries to this endpoint yet.") : html`
      <table>
        <thead><tr><th>Created</th><th>Event</th><th>Status</th><th>Attempts</th><th></th></tr></thead>
        <tbody>${page.data.map((d: any) => html`
          <tr data-delivery=${d.id}>
            <td>${when(d.created_at)}</td><td>${d.event_type}</td><td>${badge(d.status)}</td>
            <td><details><summary>${d.attempt_count} attempt(s)</summary><ol>${d.attempts.map((a: any) => html`
              <li>${when(a.started_at)}: ${a.status_code ?? a.error ?? "no answer"} in ${a.duration_ms} ms
                ${a.response_body ? html`<pre>${a.response_body}</pre>` : nothing}</li>`)}</ol></details></td>
            <td><button @click=${async () => {
              if (!(await confirmAction("Replay this delivery?", "It is sent again with the same webhook-id.", "Replay"))) return;
              await run("Delivery queued again.", () => api(`webhook-endpoints/${id}/deliveries/${d.id}/replay`, { method: "POST" }), rerender);
            }}>Replay</button></td>
          </tr>`)}</tbody>
      </table>`}`;
}
