import { validateOrReject } from "../_shared/http/validate.ts";
import { emailDataSchema, type ResendEvent } from "./event-schema.ts";

/**
 * Event types with an effect (`apply_email_event` in SQL); every other type, including
 * Resend's contact, domain and inbound events, is stored as ignored without a data check.
 */
export const HANDLED_EVENT_TYPES = [
  "email.sent",
  "email.delivered",
  "email.delivery_delayed",
  "email.bounced",
  "email.complained",
  "email.failed",
  "email.suppressed",
  "email.opened",
  "email.clicked",
] as const;

/** What `apply_resend_event` needs beyond the envelope: the job's message id and who to suppress. */
export interface ResendEffect {
  messageId: string | null;
  bounceType: string | null;
  recipients: string[];
}

const handled = new Set<string>(HANDLED_EVENT_TYPES);

/**
 * Reads the fields a handled event acts on, or answers 400 naming the failing paths. Pure,
 * so the mapping is unit-tested; the database decides what the event does to the job.
 */
export function planResendEvent(event: ResendEvent): ResendEffect {
  if (!handled.has(event.type)) return { messageId: null, bounceType: null, recipients: [] };
  const data = validateOrReject(emailDataSchema, event.data, {
    prefix: ["data"],
    message: `The ${event.type} data does not have the expected shape.`,
  });
  return { messageId: data.email_id, bounceType: data.bounce?.type ?? null, recipients: data.to ?? [] };
}
