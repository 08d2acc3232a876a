import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { functionUrl, stack } from "./stack.ts";

/** A Svix message id, as Resend sends in `svix-id` (the event's unique id). */
export const svixId = () => `msg_${randomBytes(12).toString("hex")}`;

/** Posts `event` to resend-webhook with the `svix-id` given, signed like Resend with the stack's secret. */
export async function postResend(event: unknown, id: string) {
  const payload = JSON.stringify(event);
  const date = new Date();
  const response = await fetch(functionUrl("resend-webhook"), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "svix-id": id,
      "svix-timestamp": String(Math.floor(date.getTime() / 1000)),
      "svix-signature": new Webhook(stack.RESEND_WEBHOOK_SECRET.split(",")[0]).sign(id, date, payload),
    },
    body: payload,
  });
  return { status: response.status, body: await response.json() };
}
