import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { functionUrl, stack } from "./stack.ts";

/** The resend-webhook secret the test stack signs with. */
export const [resendSecret] = stack.RESEND_WEBHOOK_SECRET.split(",");

/** A Svix message id, as Resend sends in `svix-id` (the event's unique id). */
export const svixId = () => `msg_${randomBytes(12).toString("hex")}`;

/** Options of {@link postResend}. */
export interface PostResendOptions {
  id?: string;
  secret?: string;
  date?: Date;
  headers?: Record<string, string>;
}

/** Svix headers for `payload`, signed the way Resend signs. */
export function svixHeaders(payload: string, options: PostResendOptions = {}) {
  const id = options.id ?? svixId();
  const date = options.date ?? new Date();
  return {
    "svix-id": id,
    "svix-timestamp": String(Math.floor(date.getTime() / 1000)),
    "svix-signature": new Webhook(options.secret ?? resendSecret).sign(id, date, payload),
  };
}

/** Posts `event` to resend-webhook, signed like Resend (unless headers override it). */
export async function postResend(event: unknown, options: PostResendOptions = {}) {
  const payload = typeof event === "string" ? event : JSON.stringify(event);
  const response = await fetch(functionUrl("resend-webhook"), {
    method: "POST",
    headers: { "content-type": "application/json", ...svixHeaders(payload, options), ...options.headers },
    body: payload,
  });
  return { status: response.status, body: await response.json() };
}
