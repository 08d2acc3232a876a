import type { IncomingHttpHeaders } from "node:http";
import { Webhook } from "standardwebhooks";

/**
 * What a partner's receiver does with a delivery: verify it with the `standardwebhooks`
 * library (signature and a 5-minute timestamp tolerance) and return the event. Throws when
 * the delivery is not genuine. This is the example the README shows partners.
 */
export function verifyDelivery(secret: string, body: string, headers: IncomingHttpHeaders): unknown {
  return new Webhook(secret).verify(body, {
    "webhook-id": String(headers["webhook-id"] ?? ""),
    "webhook-timestamp": String(headers["webhook-timestamp"] ?? ""),
    "webhook-signature": String(headers["webhook-signature"] ?? ""),
  });
}
