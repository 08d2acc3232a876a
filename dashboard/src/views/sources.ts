import { html } from "lit-html";
import { api } from "../api.ts";
import { badge, dialog, empty, percent, toast } from "../ui.ts";

const VERIFIERS = ["standard-webhooks", "stripe", "github", "shopify", "close", "twilio", "paypal", "hmac", "basic", "api-key", "none"];

async function create(event: Event, rerender: () => void) {
  event.preventDefault();
  const data = new FormData(event.target as HTMLFormElement);
  const body: Record<string, unknown> = { name: data.get("name"), verifier: data.get("verifier") };
  for (const key of ["secret", "event_id", "event_type", "handler"]) if (data.get(key)) body[key] = data.get(key);
  if (data.get("options")) body.verifier_options = JSON.parse(String(data.get("options")));
  try {
    const source = await api("webhook-sources", { body });
    await dialog("Source created", html`
      <p>Paste this URL into the provider's webhook settings:</p><pre class="secret">${source.url}</pre>
      ${source.secret ? html`<p>Its secret, shown only now:</p><pre class="secret">${source.secret}</pre>` : ""}`,
      [{ label: "I have copied them", value: "ok" }]);
    rerender();
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), "error");
  }
}

async function test(source: any) {
  const report = await api(`webhook-sources/${source.id}/test`, { method: "POST" });
  await dialog(`Test of ${source.name}`, html`<p>Sent a signed ${report.sent.type} sample; ${source.name} answered ${report.response.status}.</p>
    <pre>${JSON.stringify(report.response.body, null, 2)}</pre>`, [{ label: "Close", value: "close" }]);
}

async function stats(source: any) {
  const s = await api(`webhook-sources/${source.id}/stats`);
  await dialog(`${source.name}: stats`, html`<dl class="facts"><dt>Total</dt><dd>${s.total}</dd><dt>Today</dt><dd>${s.today}</dd>
    <dt>Success</dt><dd>${percent(s.success_rate)}</dd></dl>
    <ul>${s.by_type.map((t: any) => html`<li>${t.type}: ${t.count}</li>`)}</ul>`, [{ label: "Close", value: "close" }]);
}

/** Sources: create one (URL and secret shown once), send it a signed sample, read its stats. */
export async function sources(rerender: () => void) {
  const list = await api("webhook-sources?limit=100");
  return html`
    <header class="view-head"><h1>Inbound sources</h1></header>
    <form class="filters" @submit=${(e: Event) => create(e, rerender)} aria-label="Create a source">
      <label>Name<input name="name" required></label>
      <label>Verifier<select name="verifier">${VERIFIERS.map((v) => html`<option>${v}</option>`)}</select></label>
      <label>Secret (if the provider issues it)<input name="secret" type="password" autocomplete="off"></label>
      <label>Event id at<input name="event_id" placeholder="$.id"></label>
      <label>Type at<input name="event_type" placeholder="$.type"></label>
      <label>Handler<input name="handler" placeholder="public.on_event"></label>
      <label>Verifier options (JSON)<input name="options" placeholder='{"username": "shop"}'></label>
      <button type="submit">Create source</button>
    </form>
    ${list.data.length === 0 ? empty("No sources yet.", "Create one above, then paste its URL into the provider.") : html`
      <table>
        <thead><tr><th>Name</th><th>Verifier</th><th>Mode</th><th>Active</th><th></th></tr></thead>
        <tbody>${list.data.map((s: any) => html`
          <tr data-source=${s.id}>
            <td><a href="#/events?provider=source:${s.id}">${s.name}</a></td><td>${s.verifier}${s.verified ? "" : " (unverified)"}</td>
            <td>${s.mode}</td><td>${s.active ? badge("ACTIVE") : badge("DISABLED")}</td>
            <td class="actions"><button @click=${() => test(s)}>Send test</button><button @click=${() => stats(s)}>Stats</button></td>
          </tr>`)}</tbody>
      </table>`}`;
}
