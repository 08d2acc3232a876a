/**
 * Every event type an endpoint can subscribe to: the domain events, plus the operational
 * ones the delivery system and the health monitor emit themselves. Keep in step with what
 * triggers, complete_webhook_deliveries and ops_health publish, and with the README's event catalogue.
 */
export const EVENT_CATALOGUE = [
  "order.created",
  "order.updated",
  "order.cancelled",
  "order.shipped",
  "payment.completed",
  "payment.failed",
  "payment.refunded",
  "product.created",
  "product.updated",
  "product.deleted",
  "vendor.registration",
  "vendor.status_changed",
  "vendor.profile_updated",
  "certificate.issued",
  "certificate.transferred",
  "certificate.validated",
  "user.created",
  "user.updated",
  "user.deleted",
  "tenant.created",
  "tenant.updated",
  "tenant.suspended",
  "production.stage_changed",
  "production.completed",
  "quality_control.completed",
  "quality_control.failed",
  "endpoint.disabled",
  "message.attempt.exhausted",
  "webhook.test",
  "alert.opened",
  "alert.resolved",
] as const;

/** One type of the catalogue. */
export type EventType = (typeof EVENT_CATALOGUE)[number];

const KNOWN = new Set<string>(EVENT_CATALOGUE);
// A wildcard is whole dot-separated segments followed by ".*"; no partial segments ("ord*").
const WILDCARD = /^[a-z][a-z_]*(\.[a-z][a-z_]*)*\.\*$/;
// The open namespace for events forwarded from inbound sources: "inbound." and whole segments.
const INBOUND = /^inbound(\.[a-z][a-z_]*)+$/;

/**
 * Why `type` cannot be published by a source's forward rule, or null when it can: a catalogue
 * type, or an `inbound.<name>` type of lowercase segments.
 */
export function publishableTypeProblem(type: string): string | null {
  return KNOWN.has(type) || INBOUND.test(type)
    ? null
    : `"${type}" is neither a catalogue type nor an inbound.<name> type`;
}

/**
 * Why `pattern` is not a valid subscription, or null when it is: "*", a catalogue type, or a
 * prefix wildcard such as "order.*" that covers at least one catalogue type. The prefix test
 * is the one public.webhook_subscribes applies when events are published.
 */
export function subscriptionProblem(pattern: string): string | null {
  if (pattern === "*" || KNOWN.has(pattern) || pattern === "inbound.*" || INBOUND.test(pattern)) return null;
  if (!WILDCARD.test(pattern)) return `unknown event type "${pattern}"`;
  const prefix = pattern.slice(0, -1);
  return EVENT_CATALOGUE.some((type) => type.startsWith(prefix)) ? null : `"${pattern}" matches no event type`;
}
