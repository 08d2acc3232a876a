import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { type EmailEventRecord, messageIdOf, type StoredEmail } from "./inbox.ts";
import { bareAddress } from "./schema.ts";

/** The email event types the stand-in can post. */
export const WEBHOOK_TYPES = [
  "email.sent",
  "email.delivered",
  "email.delivery_delayed",
  "email.bounced",
  "email.complained",
  "email.opened",
  "email.clicked",
  "email.failed",
  "email.suppressed",
] as const;

/** One of `WEBHOOK_TYPES`. */
export type WebhookType = (typeof WEBHOOK_TYPES)[number];

/** Where events go and the endpoint's signing secret (`whsec_<base64>`, as Resend shows it). */
export interface WebhookTarget {
  url: string;
  secret: string;
}

/** True for a known event type. */
export const isWebhookType = (value: unknown): value is WebhookType =>
  (WEBHOOK_TYPES as readonly unknown[]).includes(value);

// Type-specific extras, shaped like the fields in Resend's payload types.
function extrasOf(type: WebhookType, at: string): Record<string, unknown> {
  switch (type) {
    case "email.bounced":
      return {
        bounce: {
          type: "Permanent",
          subType: "General",
          message: "The recipient's email server permanently rejected the email (simulated by the stand-in).",
        },
      };
    case "email.clicked":
      return { click: { ipAddress: "127.0.0.1", link: "https://example.com/", timestamp: at, userAgent: "stand-in" } };
    case "email.failed":
      return { failed: { reason: "Simulated failure from the Resend stand-in." } };
    case "email.suppressed":
      return { suppressed: { type: "OnAccountSuppressionList", message: "Recipient is on the suppression list." } };
    default:
      return {};
  }
}

/** The JSON body Resend posts for an email event. */
export function eventPayload(email: StoredEmail, type: WebhookType, at: string) {
  const data: Record<string, unknown> = {
    created_at: email.createdAt,
    email_id: email.id,
    message_id: messageIdOf(email),
    from: email.from,
    to: email.to,
    subject: email.subject,
  };
  // Resend flattens tags to a name → value object in webhook payloads.
  if (email.tags.length) data.tags = Object.fromEntries(email.tags.map((t) => [t.name, t.value]));
  return { type, created_at: at, data: { ...data, ...extrasOf(type, at) } };
}

/**
 * The events a real send would produce, chosen from the recipients the way Resend's test
 * addresses work (`bounced@resend.dev`, `complained@resend.dev`): any local part containing
 * "bounce" bounces; "complain" is delivered and then marked as spam.
 */
export function lifecycleOf(email: StoredEmail): WebhookType[] {
  const locals = [...email.to, ...email.cc, ...email.bcc].map((r) => (bareAddress(r) ?? r).split("@")[0].toLowerCase());
  if (locals.some((l) => l.includes("bounce"))) return ["email.sent", "email.bounced"];
  if (locals.some((l) => l.includes("complain"))) return ["email.sent", "email.delivered", "email.complained"];
  return ["email.sent", "email.delivered"];
}

/** Tuning for outgoing posts; defaults suit a local receiver. */
export interface DispatcherOptions {
  concurrency?: number;
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

/**
 * Posts signed events. Each email's events go out strictly in order, while a small global cap
 * on concurrent posts keeps a 5,000-email run from opening thousands of sockets at once.
 */

/**
 * The one long-lived signal that cancels every queued post on reset or close. Each waiting
 * post and retry sleep listens to it and removes its listener when done; at 5,000 emails
 * that is many at once, which is expected, so Node's leak warning (at 10) is lifted.
 */
function cancelController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}
export class WebhookDispatcher {
  private readonly signer: Webhook | null;
  private readonly concurrency: number;
  private readonly retryDelaysMs: number[];
  private readonly timeoutMs: number;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private waitingHead = 0;
  private controller = cancelController();
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly target: WebhookTarget | undefined,
    private readonly log: (line: string) => void,
    options: DispatcherOptions = {},
  ) {
    this.signer = target ? new Webhook(target.secret) : null;
    this.concurrency = options.concurrency ?? 8;
    this.retryDelaysMs = options.retryDelaysMs ?? [200, 1000, 3000];
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Records one event on the email and posts it; resolves once delivered or given up, never rejects. */
  async emit(email: StoredEmail, type: WebhookType): Promise<EmailEventRecord> {
    let record: EmailEventRecord | undefined;
    await this.track(this.deliver(email, type, this.controller.signal, (r) => (record = r)));
    return record as EmailEventRecord;
  }

  /** Posts the email's whole lifecycle in the background, each event after the previous one. */
  startLifecycle(email: StoredEmail): void {
    const signal = this.controller.signal;
    void this.track((async () => {
      for (const type of lifecycleOf(email)) {
        if (signal.aborted) return;
        await this.deliver(email, type, signal);
      }
    })());
  }

  /** Drops queued and in-flight posts (used by reset: they belong to emails that no longer exist). */
  cancelAll(): void {
    this.controller.abort();
    this.controller = cancelController();
  }

  /** Cancels everything and waits until no post is left running. */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelAll();
    await Promise.allSettled([...this.running]);
  }

  private track(work: Promise<void>): Promise<void> {
    const settled = work.catch((error) => this.log(`webhook dispatcher error: ${String(error)}`));
    this.running.add(settled);
    void settled.finally(() => this.running.delete(settled));
    return settled;
  }

  private async deliver(
    email: StoredEmail,
    type: WebhookType,
    signal: AbortSignal,
    onRecord?: (record: EmailEventRecord) => void,
  ): Promise<void> {
    const createdAt = new Date().toISOString();
    const record: EmailEventRecord = {
      type,
      svixId: `msg_${randomBytes(18).toString("base64url")}`,
      createdAt,
      state: this.target ? "pending" : "not-posted",
      status: null,
      attempts: 0,
    };
    email.events.push(record);
    onRecord?.(record);
    if (!this.target || !this.signer) return;
    if (this.closed) {
      record.state = "failed";
      record.error = "stand-in closed";
      return;
    }
    const body = JSON.stringify(eventPayload(email, type, createdAt));

    for (let attempt = 0; attempt <= this.retryDelaysMs.length; attempt++) {
      if (attempt > 0) {
        try {
          await sleep(this.retryDelaysMs[attempt - 1], undefined, { signal });
        } catch {
          break;
        }
      }
      if (!(await this.acquire(signal))) break;
      try {
        record.attempts++;
        record.status = await this.post(this.target.url, this.signer, record.svixId, body, signal);
        delete record.error;
        if (record.status >= 200 && record.status < 300) {
          record.state = "delivered";
          return;
        }
        record.error = `receiver answered ${record.status}`;
      } catch (error) {
        // undici's "fetch failed" says little; the cause's code (ECONNREFUSED, ...) says why.
        const code = (error as { cause?: { code?: string } }).cause?.code;
        record.error = `${error instanceof Error ? error.message : String(error)}${code ? ` (${code})` : ""}`;
      } finally {
        this.release();
      }
    }
    record.state = "failed";
    if (signal.aborted) record.error = "cancelled (reset or close)";
    else this.log(`webhook ${type} for email ${email.id} gave up after ${record.attempts} attempts: ${record.error}`);
  }

  private async post(url: string, signer: Webhook, svixId: string, body: string, signal: AbortSignal) {
    // A per-post controller rather than AbortSignal.any: thousands of posts would otherwise hang
    // dependent signals off the one long-lived cancel signal.
    const controller = new AbortController();
    const abort = () => controller.abort(new Error(`no answer within ${this.timeoutMs} ms`));
    const timer = setTimeout(abort, this.timeoutMs);
    signal.addEventListener("abort", abort, { once: true });
    try {
      // Svix signs every attempt afresh (same id, new timestamp), so a receiver's replay window holds.
      const now = new Date();
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Svix-Webhooks/1.0 (resend-stand-in)",
          "svix-id": svixId,
          "svix-timestamp": String(Math.floor(now.getTime() / 1000)),
          "svix-signature": signer.sign(svixId, now, body),
        },
        body,
        signal: controller.signal,
      });
      // Drain the body so the keep-alive connection goes back to the pool.
      await response.arrayBuffer().catch(() => undefined);
      return response.status;
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", abort);
    }
  }

  private async acquire(signal: AbortSignal): Promise<boolean> {
    if (this.active < this.concurrency) {
      this.active++;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    if (!signal.aborted) return true;
    this.release();
    return false;
  }

  // Hands the slot straight to the next waiter; the head index avoids Array#shift on a long queue.
  private release(): void {
    if (this.waitingHead < this.waiting.length) {
      const next = this.waiting[this.waitingHead];
      this.waiting[this.waitingHead++] = undefined as never;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      next();
      return;
    }
    this.active--;
  }
}
