import type { EmailInput } from "./schema.ts";
import type { WebhookType } from "./webhooks.ts";

/** One webhook event the stand-in produced for an email, and what the receiver made of it. */
export interface EmailEventRecord {
  type: WebhookType;
  svixId: string;
  createdAt: string;
  /** `not-posted` when no webhook is configured: the event still counts for `last_event`. */
  state: "pending" | "delivered" | "failed" | "not-posted";
  /** The receiver's last HTTP status, or null if it never answered. */
  status: number | null;
  attempts: number;
  error?: string;
}

/** An accepted email as the stand-in keeps it (live: `events` grows as webhooks are posted). */
export interface StoredEmail {
  id: string;
  createdAt: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html: string | null;
  text: string | null;
  headers: Record<string, string>;
  tags: { name: string; value: string }[];
  scheduledAt: string | null;
  template: { id: string; variables?: Record<string, unknown> } | null;
  /** Name and size only: keeping attachment content would make 5,000-email runs needlessly heavy. */
  attachments: { filename: string | null; bytes: number | null; path: string | null }[];
  idempotencyKey: string | null;
  viaBatch: boolean;
  events: EmailEventRecord[];
}

/** Builds the stored form of a validated email. */
export function storedEmailOf(
  id: string,
  input: EmailInput,
  idempotencyKey: string | null,
  viaBatch: boolean,
): StoredEmail {
  return {
    id,
    createdAt: new Date().toISOString(),
    from: input.from,
    to: input.to,
    cc: input.cc,
    bcc: input.bcc,
    replyTo: input.reply_to,
    subject: input.subject,
    html: input.html ?? null,
    text: input.text ?? null,
    headers: input.headers ?? {},
    tags: input.tags ?? [],
    scheduledAt: input.scheduled_at ?? null,
    template: input.template ?? null,
    attachments: (input.attachments ?? []).map((a) => ({
      filename: a.filename || null,
      // Base64 length * 3/4 is close enough for a dev inbox and avoids decoding every attachment.
      bytes: a.content === undefined ? null : Math.floor((a.content.length * 3) / 4),
      path: a.path ?? null,
    })),
    idempotencyKey,
    viaBatch,
    events: [],
  };
}

/** A stable fake Message-ID; Resend exposes one in retrieve responses and webhook payloads. */
export const messageIdOf = (email: StoredEmail) => `<${email.id}@resend-stand-in.local>`;

/** Resend's `last_event`: the latest event without its `email.` prefix, `queued` before any. */
export function lastEventOf(email: StoredEmail): string {
  const last = email.events.at(-1);
  if (last) return last.type.slice("email.".length);
  return email.scheduledAt ? "scheduled" : "queued";
}

/** The body of `GET /emails/:id`, shaped like Resend's retrieve response. */
export function retrieveResponseOf(email: StoredEmail) {
  const orNull = (list: string[]) => (list.length ? list : null);
  return {
    object: "email",
    id: email.id,
    to: email.to,
    from: email.from,
    created_at: email.createdAt,
    subject: email.subject,
    html: email.html,
    text: email.text,
    bcc: orNull(email.bcc),
    cc: orNull(email.cc),
    reply_to: orNull(email.replyTo),
    last_event: lastEventOf(email),
    scheduled_at: email.scheduledAt,
    tags: email.tags,
    message_id: messageIdOf(email),
  };
}

/**
 * Accepted emails by id. A Map keeps insertion order, so "newest first" is a reverse walk and
 * the oldest can be evicted in O(1) once the cap is reached (a long-running dev server must
 * not grow without bound).
 */
export class Inbox {
  private readonly emails = new Map<string, StoredEmail>();

  constructor(private readonly maxEmails = 100_000) {}

  /** Number of emails kept. */
  get size(): number {
    return this.emails.size;
  }

  /** Stores an email, evicting the oldest beyond the cap. */
  add(email: StoredEmail): void {
    this.emails.set(email.id, email);
    if (this.emails.size > this.maxEmails) {
      const oldest = this.emails.keys().next().value;
      if (oldest !== undefined) this.emails.delete(oldest);
    }
  }

  /** The email with this id, if kept. */
  get(id: string): StoredEmail | undefined {
    return this.emails.get(id);
  }

  /** Emails newest first, at most `limit` of them. */
  list(limit = Infinity): StoredEmail[] {
    const all = [...this.emails.values()];
    const out: StoredEmail[] = [];
    for (let i = all.length - 1; i >= 0 && out.length < limit; i--) out.push(all[i]);
    return out;
  }

  /** Forgets every email. */
  clear(): void {
    this.emails.clear();
  }
}
