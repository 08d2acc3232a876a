import { z } from "zod";
import { HttpError } from "../../_shared/http/errors.ts";
import type { Action } from "./action.ts";

const emailId = z.strictObject({ email_id: z.guid(), dry_run: z.boolean().optional() });

/** `email-cancel {email_id}`: a queued email that has not been claimed is never sent. */
export const cancelEmail: Action<z.infer<typeof emailId>> = {
  platformOnly: true,
  params: emailId,
  async run({ sql }, { email_id, dry_run }) {
    const [email] = await sql<{ status: string }[]>`select status from public.email_queue where id = ${email_id}`;
    if (!email) throw new HttpError(404, "not_found", "No email with this id.");
    if (email.status !== "pending") {
      throw new HttpError(409, "not_cancelable", `The email is ${email.status}; only a pending email can be canceled.`);
    }
    if (dry_run) return { touched: 0, body: { email_id, status: "pending" } };
    // Only while still pending: a worker that claimed it meanwhile sends it, and this says so.
    const rows = await sql`
      update public.email_queue set status = 'canceled', updated_at = now()
      where id = ${email_id} and status = 'pending' returning id`;
    if (rows.length === 0) throw new HttpError(409, "not_cancelable", "The email was claimed for sending meanwhile.");
    return { touched: 1, body: { email_id, status: "canceled" } };
  },
};

/**
 * `email-resend {email_id}`: a dead (or failed) email queued again as a new job with a new
 * idempotency key (`<old key>:resend:<n>`), so Resend does not answer with the earlier attempt.
 * The original row stays as it was, for the record.
 */
export const resendEmail: Action<z.infer<typeof emailId>> = {
  platformOnly: true,
  params: emailId,
  async run({ sql }, { email_id, dry_run }) {
    const [email] = await sql<{ status: string }[]>`select status from public.email_queue where id = ${email_id}`;
    if (!email) throw new HttpError(404, "not_found", "No email with this id.");
    if (email.status !== "dead" && email.status !== "failed") {
      throw new HttpError(
        409,
        "not_resendable",
        `The email is ${email.status}; only a dead or failed email is resent.`,
      );
    }
    if (dry_run) return { touched: 0, body: { email_id, status: email.status } };
    const [copy] = await sql<{ id: string; idempotency_key: string }[]>`
      insert into public.email_queue (template, recipient, data, idempotency_key, max_attempts)
      select q.template, q.recipient, q.data,
             -- One past the highest earlier resend's number: a count of them would reuse a number
             -- once retention has deleted an earlier resend.
             q.idempotency_key || ':resend:' || (
               select coalesce(max(substr(r.idempotency_key, length(q.idempotency_key) + 9)::integer), 0) + 1
               from public.email_queue r
               where starts_with(r.idempotency_key, q.idempotency_key || ':resend:')
                 and substr(r.idempotency_key, length(q.idempotency_key) + 9) ~ '^[0-9]{1,9}$'),
             q.max_attempts
      from public.email_queue q where q.id = ${email_id}
      returning id, idempotency_key`;
    return { touched: 1, body: { email_id, resent_as: copy.id, idempotency_key: copy.idempotency_key } };
  },
};
