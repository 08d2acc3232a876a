import type { Sql } from "../_shared/db.ts";
import { loadTemplates } from "../_shared/email/templates.ts";
import { jsonb } from "../_shared/sql-json.ts";

/** A claimed job, as `claim_email_jobs` returns it. */
export interface EmailJob {
  id: string;
  template: string;
  recipient: string;
  data: Record<string, unknown>;
  attempts: number;
  send_key: string | null;
}

/** How a failed attempt is settled; see `fail_email_jobs` in the email migration. */
export type FailOutcome = "retry" | "throttled" | "failed";

/** The email queue's database operations, one SQL function each. */
export function emailQueue(sql: Sql) {
  return {
    claim: (worker: string, limit: number, leaseSeconds: number) =>
      sql<EmailJob[]>`
        select id, template, recipient, data, attempts, send_key
        from public.claim_email_jobs(${worker}, ${limit}, ${leaseSeconds})`,
    assignSendKey: (ids: string[], sendKey: string) =>
      sql`select public.assign_email_send_key(${ids}::uuid[], ${sendKey})`,
    complete: (ids: string[], messageIds: (string | null)[]) =>
      sql`select public.complete_email_jobs(${ids}::uuid[], ${messageIds}::text[])`,
    fail: (ids: string[], outcome: FailOutcome, error: string, retryAfterSeconds?: number, keepSendKey = false) =>
      sql`select public.fail_email_jobs(
        ${ids}::uuid[], ${outcome}, ${error}, ${retryAfterSeconds ?? null}::integer, ${keepSendKey})`,
    templates: (keys: string[]) => loadTemplates(sql, keys),
    enqueue: async (template: string, to: string, data: Record<string, unknown>, key: string) => {
      const [row] = await sql<{ id: string }[]>`
        select public.enqueue_email(${template}, ${to}, ${jsonb(sql, data)}, ${key}) as id`;
      return row.id;
    },
  };
}

/** The queue operations bound to a client. */
export type EmailQueue = ReturnType<typeof emailQueue>;
