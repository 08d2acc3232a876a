import { html, nothing } from "lit-html";
import { api, ApiError } from "../api.ts";
import { go, here, withParams } from "../router.ts";
import { badge, confirmAction, empty, toast, when } from "../ui.ts";

const STATUSES = ["", "pending", "processed", "ignored", "unmatched", "failed"];
const FILTERS = ["provider", "status", "type", "from", "to", "event_id", "q"] as const;

/** The list's filters as the actions' filter body (the same fields, where the action takes them). */
function actionFilter(params: URLSearchParams): Record<string, unknown> {
  const filter: Record<string, unknown> = {};
  for (const key of ["provider", "status", "type", "from", "to"] as const) {
    const value = params.get(key);
    if (value) filter[key] = key === "from" || key === "to" ? new Date(value).toISOString() : value;
  }
  return filter;
}

/** A bulk action: its dry-run count first, then a confirmation naming that count, then the action. */
async function bulk(action: "retry-failed" | "mark-processed" | "delete-event", rerender: () => void) {
  const filter = actionFilter(here().params);
  try {
    const dry = await api(`operations/actions/${action}`, { body: { filter, dry_run: true } });
    if (dry.matched === 0) {
      toast("No event matches these filters for this action.");
      return;
    }
    const verb = { "retry-failed": "Retry", "mark-processed": "Mark processed", "delete-event": "Delete" }[action];
    if (!(await confirmAction(`${verb} ${dry.matched} event(s)?`, `${verb} the ${dry.matched} event(s) these filters match. This is recorded in the audit log.`, `${verb} ${dry.matched}`))) return;
    const done = await api(`operations/actions/${action}`, { body: { filter } });
    toast(`${verb}: ${done.retried ?? done.marked ?? done.deleted} of ${done.matched} done${done.complete === false ? " (more remain: run it again)" : ""}.`);
    rerender();
  } catch (error) {
    toast(error instanceof ApiError ? error.message : String(error), "error");
  }
}

/** Inbound events: filters in the URL, cursor pages, and the bulk actions. */
export async function events(rerender: () => void) {
  const { params } = here();
  const query = new URLSearchParams([...params].filter(([key]) => (FILTERS as readonly string[]).includes(key) || key === "cursor"));
  for (const key of ["from", "to"]) if (query.get(key)) query.set(key, new Date(query.get(key)!).toISOString());
  const page = await api(`operations/events?${query}`);
  const submit = (event: Event) => {
    event.preventDefault();
    const data = new FormData(event.target as HTMLFormElement);
    go("/events", Object.fromEntries(FILTERS.map((key) => [key, String(data.get(key) ?? "")])));
  };
  return html`
    <header class="view-head"><h1>Inbound events</h1></header>
    <form class="filters" @submit=${submit} aria-label="Filters">
      <label>Provider or source<input name="provider" placeholder="stripe, resend, source:<id>" .value=${params.get("provider") ?? ""}></label>
      <label>Status<select name="status">${STATUSES.map((s) => html`<option value=${s} ?selected=${s === (params.get("status") ?? "")}>${s || "any"}</option>`)}</select></label>
      <label>Type<input name="type" .value=${params.get("type") ?? ""}></label>
      <label>From<input name="from" type="datetime-local" .value=${params.get("from") ?? ""}></label>
      <label>To<input name="to" type="datetime-local" .value=${params.get("to") ?? ""}></label>
      <label>Event id<input name="event_id" .value=${params.get("event_id") ?? ""}></label>
      <label>Payload contains<input name="q" .value=${params.get("q") ?? ""}></label>
      <button type="submit">Filter</button>
    </form>
    <div class="bulk" role="group" aria-label="Bulk actions on the filtered events">
      <button @click=${() => bulk("retry-failed", rerender)}>Retry failed…</button>
      <button @click=${() => bulk("mark-processed", rerender)}>Mark processed…</button>
      <button class="danger" @click=${() => bulk("delete-event", rerender)}>Delete…</button>
    </div>
    ${page.data.length === 0 ? empty("No events match these filters.", "Widen the time range or clear a filter.") : html`
      <table>
        <thead><tr><th>Received</th><th>Provider</th><th>Type</th><th>Event id</th><th>Status</th><th>Attempts</th><th>Error</th></tr></thead>
        <tbody>${page.data.map((e: any) => html`
          <tr data-event=${e.event_id}>
            <td>${when(e.received_at)}</td><td>${e.provider}</td><td>${e.event_type}</td>
            <td><a href="#/events/${e.id}">${e.event_id}</a></td><td>${badge(e.status)}</td>
            <td>${e.attempts}</td><td class="error-text">${e.error ?? ""}</td>
          </tr>`)}</tbody>
      </table>
      ${page.next_cursor ? html`<button @click=${() => withParams({ cursor: page.next_cursor })}>Older events</button>` : nothing}`}`;
}

/** One event: its payload, history and audit trail, with retry and mark processed. */
export async function eventDetail(id: string, rerender: () => void) {
  const event = await api(`operations/events/${encodeURIComponent(id)}`);
  const run = async (action: "retry-event" | "mark-processed") => {
    const body = action === "retry-event" ? { id } : { filter: { ids: [id] } };
    const label = action === "retry-event" ? "Retry" : "Mark processed";
    if (!(await confirmAction(`${label} this event?`, `${label} ${event.event_id} (${event.event_type}).`, label))) return;
    try {
      const result = await api(`operations/actions/${action}`, { body });
      toast(action === "retry-event" ? `Retried: ${Object.keys(result.outcomes ?? {}).join(", ")}.` : "Marked processed.");
      rerender();
    } catch (error) {
      toast(error instanceof Error ? error.message : String(error), "error");
    }
  };
  const payload = JSON.stringify(event.payload, null, 2);
  const copy = async () => {
    await navigator.clipboard.writeText(payload).then(() => toast("Payload copied."), () => toast("Copy is not allowed here.", "error"));
  };
  const retryable = event.status === "failed" || event.status === "unmatched";
  return html`
    <header class="view-head"><h1>Event ${event.event_id} ${badge(event.status)}</h1>
      <a href="#/events?provider=${encodeURIComponent(event.provider)}">All ${event.provider} events</a></header>
    <div class="actions">
      <button ?disabled=${!retryable} @click=${() => run("retry-event")}>Retry</button>
      <button ?disabled=${event.status === "processed"} @click=${() => run("mark-processed")}>Mark processed</button>
    </div>
    <dl class="facts">
      <dt>Provider</dt><dd>${event.provider}</dd><dt>Type</dt><dd>${event.event_type}</dd>
      <dt>Outcome</dt><dd>${event.outcome ?? "—"}</dd><dt>Error</dt><dd class="error-text">${event.error ?? "—"}</dd>
      <dt>Received</dt><dd>${when(event.received_at)}</dd><dt>Processed</dt><dd>${when(event.processed_at)}</dd>
      <dt>Attempts</dt><dd>${event.attempts}</dd><dt>Redeliveries</dt><dd>${event.duplicates ?? 0}</dd>
      <dt>Request id</dt><dd><code>${event.request_id ?? "—"}</code></dd>
    </dl>
    <section aria-labelledby="payload-title"><h2 id="payload-title">Payload <button @click=${copy}>Copy</button></h2>
      <pre class="payload" tabindex="0">${payload}</pre></section>
    <section aria-labelledby="history-title"><h2 id="history-title">Operator actions</h2>
      ${(event.audits ?? []).length === 0 ? empty("No operator has acted on this event.") : html`<ul>${event.audits.map((a: any) =>
        html`<li>${when(a.created_at)}: ${a.details?.action} by ${a.source}${a.details?.params?.refused ? ` (refused: ${a.details.params.refused})` : ""}</li>`)}</ul>`}
    </section>`;
}
