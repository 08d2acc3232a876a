import type { Sql } from "../_shared/db.ts";
import { type Cursor, CURSOR_AT_FORMAT, type Page, pageOf } from "../_shared/http/cursor.ts";
import { type RenderedEmail, renderTemplate, TemplateError } from "../_shared/email/render.ts";
import { loadTemplates } from "../_shared/email/templates.ts";
import { isUuid } from "../_shared/uuid.ts";

/** An email as the emails list shows it (no template data: it holds customers' details). */
export type EmailRow = Record<string, unknown> & { id: string; provider_message_id: string | null };

/** One of Resend's delivery events for an email, as resend-webhook recorded it. */
export interface EmailEvent {
  id: string;
  event_type: string;
  status: string;
  received_at: string;
}

/** An email with its delivery events, oldest first. */
export type EmailDetail = EmailRow & { events: EmailEvent[] };

/** What the emails list narrows by. */
export interface EmailsQuery {
  status?: string[];
  template?: string;
  recipient?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: Cursor;
}

const COLUMNS = (sql: Sql) =>
  sql`q.id, q.template, q.recipient, q.status, q.attempts, q.max_attempts, q.last_error, q.provider_message_id,
      q.created_at, q.sent_at, q.delivered_at, q.next_attempt_at`;

/** The SQL of the email queue the dashboard lists and opens (platform only: the route refuses tenants). */
export function emailReads(sql: Sql) {
  return {
    /** Emails newest first (created_at, then id), one page after `cursor`. */
    async list(query: EmailsQuery): Promise<Page<EmailRow>> {
      const rows = await sql<(EmailRow & { cursor_at: string })[]>`
        select ${COLUMNS(sql)}, to_char(q.created_at at time zone 'UTC', ${CURSOR_AT_FORMAT}) as cursor_at
        from public.email_queue q
        where true
          ${query.status ? sql`and q.status = any(${query.status}::text[])` : sql``}
          ${query.template ? sql`and q.template = ${query.template}` : sql``}
          ${query.recipient ? sql`and q.recipient = ${query.recipient}` : sql``}
          ${query.from ? sql`and q.created_at >= ${query.from}::timestamptz` : sql``}
          ${query.to ? sql`and q.created_at < ${query.to}::timestamptz` : sql``}
          ${
        query.cursor
          ? sql`and (q.created_at, q.id) < (${query.cursor.at}::timestamptz, ${query.cursor.id}::uuid)`
          : sql``
      }
        order by q.created_at desc, q.id desc
        limit ${query.limit + 1}`;
      return pageOf<EmailRow>(rows, query.limit);
    },

    /** One email with Resend's events for its message id, oldest first; null when there is none. */
    async get(id: string): Promise<EmailDetail | null> {
      if (!isUuid(id)) return null;
      const [row] = await sql<EmailRow[]>`select ${COLUMNS(sql)} from public.email_queue q where q.id = ${id}`;
      if (!row) return null;
      const events = row.provider_message_id === null ? [] : await sql<EmailEvent[]>`
        select e.id::text as id, e.event_type, e.status, e.received_at
        from public.webhook_events e
        where e.provider = 'resend' and e.payload -> 'data' ->> 'email_id' = ${row.provider_message_id}
        order by e.received_at, e.id`;
      return { ...row, events };
    },

    /**
     * The email as its recipient sees it, rendered now from its template, layout and brand as
     * they are (so an edit shows before the next send); null when there is no such email.
     * A template that cannot render gives its TemplateError's message as `error`.
     */
    async preview(id: string): Promise<(RenderedEmail & { error?: undefined }) | { error: string } | null> {
      if (!isUuid(id)) return null;
      const [job] = await sql<{ template: string; data: Record<string, unknown> }[]>`
        select template, data from public.email_queue where id = ${id}`;
      if (!job) return null;
      const template = (await loadTemplates(sql, [job.template])).get(job.template);
      if (!template) return { error: `template ${job.template} does not exist` };
      try {
        return renderTemplate(template, job.data);
      } catch (error) {
        if (error instanceof TemplateError) return { error: error.message };
        throw error;
      }
    },
  };
}
