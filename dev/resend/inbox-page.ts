import type { EmailEventRecord, StoredEmail } from "./inbox.ts";

/** HTML-escapes text for element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; }
  h1 { font-size: 1.3rem; } .muted { color: #777; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #eee; vertical-align: top; }
  th { background: #fafafa; font-weight: 600; }
  .ev { display: inline-block; margin: 0 .3rem .2rem 0; padding: 0 .4rem; border-radius: 4px; background: #eef; }
  .ev.failed { background: #fdd; } .ev.pending { background: #ffd; } .ev.not-posted { background: #eee; }
  code { font-size: 12px; }
`;

function eventBadge(event: EmailEventRecord): string {
  const label = event.type.replace(/^email\./, "");
  const status = event.status === null ? "" : ` ${event.status}`;
  const title = `${event.state}${event.error ? `: ${event.error}` : ""} (${event.attempts} attempt(s))`;
  return `<span class="ev ${escapeHtml(event.state)}" title="${escapeHtml(title)}">${
    escapeHtml(label + status)
  }</span>`;
}

function row(email: StoredEmail): string {
  const id = encodeURIComponent(email.id);
  const recipients = [...email.to, ...email.cc.map((r) => `cc ${r}`), ...email.bcc.map((r) => `bcc ${r}`)];
  return `<tr>
  <td><time datetime="${escapeHtml(email.createdAt)}">${
    escapeHtml(email.createdAt.replace("T", " ").slice(0, 19))
  }</time></td>
  <td>${recipients.map(escapeHtml).join("<br>")}</td>
  <td><a href="/inbox/${id}/html">${escapeHtml(email.subject || "(no subject)")}</a>
    <div class="muted">from ${escapeHtml(email.from)} · <a href="/inbox/${id}">json</a></div></td>
  <td>${email.events.map(eventBadge).join("") || '<span class="muted">none</span>'}</td>
</tr>`;
}

/** The `GET /` page: the most recent emails, newest first, everything escaped. */
export function renderInboxPage(emails: StoredEmail[], total: number): string {
  const shown = emails.length < total ? ` (newest ${emails.length} shown)` : "";
  const rows = emails.map(row).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Resend stand-in inbox</title><style>${STYLE}</style></head>
<body>
<h1>Resend stand-in inbox</h1>
<p class="muted">${total} email(s) received${shown}. JSON: <a href="/inbox">/inbox</a>. Reload to refresh.</p>
<table>
<thead><tr><th>Received (UTC)</th><th>To</th><th>Subject</th><th>Webhook events (receiver status)</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="4" class="muted">Nothing yet.</td></tr>'}
</tbody></table>
</body></html>`;
}

/**
 * The body of one email for `GET /inbox/:id/html`: its own HTML, or its text in a <pre>. The
 * route serves this under a sandboxing CSP, because the HTML is whatever the sender produced.
 */
export function renderEmailBody(email: StoredEmail): string {
  if (email.html) return email.html;
  const text = email.text ?? (email.template ? `(template ${email.template.id})` : "");
  return `<!doctype html><meta charset="utf-8"><pre style="white-space: pre-wrap">${escapeHtml(text)}</pre>`;
}
