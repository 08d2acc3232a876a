import { z } from "zod";
import type { MediaType } from "../http/pipeline.ts";
import { newRandomSecret, newSigningSecret } from "../signing-secret.ts";
import { apiKeyOptions } from "./api-key.ts";
import { basicOptions } from "./basic.ts";
import { isCloseSecret } from "./close.ts";
import { genericHmacOptions } from "./generic-hmac.ts";
import { paypalOptions } from "./paypal.ts";
import { isStandardWebhooksSecret } from "./standard-webhooks.ts";
import type { VerifierKind } from "./types.ts";

/**
 * What a verification scheme asks of a source, apart from checking requests (see verifiers.ts):
 * its settings, where its secret comes from, where the provider puts the event's id and
 * type, and the body formats it sends. The management API validates and fills sources from it.
 */
export interface Scheme {
  /** `verifier_options`: validated, defaults applied. */
  options: z.ZodType<Record<string, unknown>, unknown>;
  /**
   * `generated`: we make one unless the provider lets you paste ours (shown once);
   * `supplied`: the provider's dashboard issues it and the source must be given it;
   * `none`: the scheme has no shared secret.
   */
  secret: "generated" | "supplied" | "none";
  /** Why `secret` cannot key this scheme, or null. */
  secretProblem(secret: string): string | null;
  /** A fresh secret, for `generated` schemes. */
  newSecret(): string;
  /** Where the provider's own event id is (see event-location.ts); null: the id the signature covers, else the body's SHA-256. */
  eventId: string | null;
  /** Where the provider's event type is; null: 'unknown'. */
  eventType: string | null;
  /** The body formats the provider sends. */
  mediaTypes: readonly MediaType[];
  /** Whether the scheme signs a timestamp, so that tolerance_seconds applies. */
  timestamped: boolean;
}

const JSON_ONLY: readonly MediaType[] = ["application/json"];
const noOptions = z.strictObject({});
const anyString = (secret: string) => (secret.length >= 8 ? null : "must be at least 8 characters");

const generated = { secret: "generated", newSecret: newRandomSecret, secretProblem: anyString } as const;
const supplied = { secret: "supplied", newSecret: newRandomSecret, secretProblem: anyString } as const;

/** Every scheme, by `webhook_sources.verifier`. */
export const SCHEMES: Record<VerifierKind, Scheme> = {
  "standard-webhooks": {
    options: noOptions,
    ...generated,
    newSecret: newSigningSecret,
    secretProblem: (secret) => (isStandardWebhooksSecret(secret) ? null : "must be whsec_ followed by base64"),
    eventId: null,
    eventType: "$.type",
    mediaTypes: JSON_ONLY,
    timestamped: true,
  },
  stripe: {
    options: noOptions,
    ...supplied,
    secretProblem: (secret) => (/^whsec_\S+$/.test(secret) ? null : "must be the endpoint's signing secret, whsec_..."),
    eventId: "$.id",
    eventType: "$.type",
    mediaTypes: JSON_ONLY,
    timestamped: true,
  },
  github: {
    options: noOptions,
    ...generated,
    eventId: "x-github-delivery",
    eventType: "x-github-event",
    mediaTypes: JSON_ONLY,
    timestamped: false,
  },
  shopify: {
    options: noOptions,
    ...supplied,
    eventId: "x-shopify-webhook-id",
    eventType: "x-shopify-topic",
    mediaTypes: JSON_ONLY,
    timestamped: false,
  },
  close: {
    options: noOptions,
    ...supplied,
    secretProblem: (secret) => (isCloseSecret(secret) ? null : "must be the subscription's signature_key (hex)"),
    eventId: "$.event.id",
    eventType: "{$.event.object_type}.{$.event.action}",
    mediaTypes: JSON_ONLY,
    timestamped: true,
  },
  twilio: {
    options: noOptions,
    ...supplied,
    eventId: "i-twilio-idempotency-token",
    eventType: "$.MessageStatus",
    mediaTypes: ["application/x-www-form-urlencoded", "application/json"],
    timestamped: false,
  },
  paypal: {
    options: paypalOptions,
    secret: "none",
    newSecret: newRandomSecret,
    secretProblem: () => "is not taken: PayPal signs with its certificate; send verifier_options.webhook_id instead",
    eventId: "$.id",
    eventType: "$.event_type",
    mediaTypes: JSON_ONLY,
    timestamped: true,
  },
  hmac: {
    options: genericHmacOptions,
    ...generated,
    eventId: null,
    eventType: "$.type",
    mediaTypes: JSON_ONLY,
    timestamped: true,
  },
  basic: {
    options: basicOptions,
    ...generated,
    eventId: null,
    eventType: "$.type",
    mediaTypes: JSON_ONLY,
    timestamped: false,
  },
  "api-key": {
    options: apiKeyOptions,
    ...generated,
    eventId: null,
    eventType: "$.type",
    mediaTypes: JSON_ONLY,
    timestamped: false,
  },
  none: {
    options: noOptions,
    secret: "none",
    newSecret: newRandomSecret,
    secretProblem: () => "is not taken by a source without verification",
    eventId: null,
    eventType: "$.type",
    mediaTypes: JSON_ONLY,
    timestamped: false,
  },
};
