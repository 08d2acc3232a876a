import { html, nothing } from "lit-html";
import { api } from "../api.ts";
import { here, withParams } from "../router.ts";
import { badge, confirmAction, dialog, empty, masked, toast, when } from "../ui.ts";

const STATUSES = ["", "pending", "sending", "sent", "delivered", "bounced", "complained", "failed", "dead", "suppressed", "canceled"];

async function act(action: "email-cancel" | "email-resend", email: any, rerender: () => void) {
  const label = action === "email-cancel" ? "Cancel" : "Resend";
  const note = action === "email-cancel" ? "It will not be sent." : "A new email is queued with a new idempotency key; this one stays as it is.";
  if (!(await confirmAction(`${label} the ${email.template} email?`, note, `${label} email`))) return;
  try {
    await api(`operations/actions/${action}`, { body: { email_id: email.id } });
    toast(action === "email-cancel" ? "Email canceled." : "Email queued again.");
    rerender();
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), "error");
  }
}

async function providerEvents(id: string) {
  const detail = await api(`operations/emails/${id}`);
  await dialog("Delivery events", (detail.events ?? []).length === 0 ? empty("Resend has reported nothing for this email yet.") : html`
    <ul>${detail.events.map((e: any) => html`<li>${when(e.received_at)}: ${e.event_type} (${e.status})</li>`)}</ul>`,
    [{ label: "Close", value: "close" }]);
}

// The email as its recipient sees it: the html part in a sandboxed frame (no scripts, no
// navigation, no same-origin access), and the text part as it reads on its own.
async function preview(id: string) {
  let rendered: { subject: string; html: string; text: string };
  try {
    rendered = await api(`operations/emails/${id}/preview`);
  } catch (error) {
    toast(error instanceof Error ? error.message : String(error), "error");
    return;
  }
  await dialog(rendered.subject, html`
    <iframe class="email-preview" title="The email's html part" sandbox="" srcdoc=${rendered.html}></iframe>
    <details><summary>Plain-text part</summary><pre class="email-text">${rendered.text}</pre></details>`,
    [{ label: "Close", value: "close" }]);
}

/** The email queue: status, masked recipient, attempts and errors; cancel a queued email, resend a dead one. */
export async function emails(rerender: () => void) {
  const { params } = here();
  const query = new URLSearchParams([...params].filter(([key]) => ["status", "cursor"].includes(key)));
  const page = await api(`operations/emails?${query}`);
  return html`
    <header class="view-head"><h1>Email queue</h1>
      <label>Status<select @change=${(e: Event) => withParams({ status: (e.target as HTMLSelectElement).value, cursor: undefined })}>
        ${STATUSES.map((s) => html`<option value=${s} ?selected=${s === (params.get("status") ?? "")}>${s || "any"}</option>`)}
      </select></label></header>
    ${page.data.length === 0 ? empty("No emails here.", "Emails are queued by the database when orders change.") : html`
      <table>
        <thead><tr><th>Created</th><th>Template</th><th>Recipient</th><th>Status</th><th>Attempts</th><th>Last error</th><th></th></tr></thead>
        <tbody>${page.data.map((m: any) => html`
          <tr data-email=${m.id}>
            <td>${when(m.created_at)}</td><td>${m.template}</td><td>${masked(m.recipient)}</td><td>${badge(m.status)}</td>
            <td>${m.attempts}/${m.max_attempts}</td><td class="error-text">${m.last_error ?? ""}</td>
            <td class="actions">
              <button @click=${() => preview(m.id)}>Preview</button>
              ${m.provider_message_id ? html`<button @click=${() => providerEvents(m.id)}>Delivery events</button>` : nothing}
              ${m.status === "pending" ? html`<button class="danger" @click=${() => act("email-cancel", m, rerender)}>Cancel</button>` : nothing}
              ${m.status === "dead" || m.status === "failed" ? html`<button @click=${() => act("email-resend", m, rerender)}>Resend</button>` : nothing}
            </td>
          </tr>`)}</tbody>
      </table>
      ${page.next_cursor ? html`<button @click=${() => withParams({ cursor: page.next_cursor })}>Older emails</button>` : nothing}`}`;
}
