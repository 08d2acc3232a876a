import { sha256Hex, toBase64 } from "../bytes.ts";
import { basicAuthorization, basicOptions } from "./basic.ts";
import { closeSignature } from "./close.ts";
import { genericHmacOptions, genericHmacSignature } from "./generic-hmac.ts";
import { githubSignature } from "./github.ts";
import { paypalMessage, paypalOptions } from "./paypal.ts";
import { shopifySignature } from "./shopify.ts";
import { standardWebhooksSignature } from "./standard-webhooks.ts";
import { stripeSignature } from "./stripe.ts";
import { twilioSignature } from "./twilio.ts";
import { apiKeyOptions } from "./api-key.ts";
import type { SignedRequest, VerifierKind } from "./types.ts";

/** What a sample is signed with: the source's secret and settings, its public URL, and the clock. */
export interface SampleInput {
  kind: VerifierKind;
  /** The current secret (null for paypal and none). */
  secret: string | null;
  /** The source's verifier_options. */
  options: Record<string, unknown>;
  /** The source's public URL: the request goes there, and Twilio signs it. */
  url: string;
  /** The event type to send; each scheme has a realistic default. */
  type?: string;
  /** Unix seconds. */
  now?: number;
  /** PayPal signs with its private key and names its certificate's URL; only a test key can sign here. */
  paypal?: { privateKey: CryptoKey; certUrl: string };
}

const DEFAULT_TYPE: Record<VerifierKind, string> = {
  "standard-webhooks": "invoice.paid",
  stripe: "customer.created",
  github: "push",
  shopify: "orders/create",
  close: "lead.created",
  twilio: "received",
  paypal: "PAYMENT.CAPTURE.COMPLETED",
  hmac: "order.shipped",
  basic: "order.shipped",
  "api-key": "order.shipped",
  none: "order.shipped",
};

const random = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(36)).join("");

/** A realistic body of the provider's, for `type`. */
function sampleBody(kind: VerifierKind, type: string, now: number): { body: string; form?: boolean } {
  const iso = new Date(now * 1000).toISOString();
  switch (kind) {
    case "stripe":
      return {
        body: JSON.stringify({
          id: `evt_${random(12)}`,
          object: "event",
          api_version: "2025-09-30.clover",
          created: now,
          type,
          livemode: false,
          pending_webhooks: 1,
          request: { id: null, idempotency_key: null },
          data: { object: { id: `cus_${random(7)}`, object: "customer", email: "ada@example.com", name: "Ada" } },
        }),
      };
    case "github":
      return {
        body: JSON.stringify({
          ref: "refs/heads/main",
          before: "0".repeat(40),
          after: "1".repeat(40),
          repository: { id: 1296269, full_name: "octo-shop/storefront", private: true },
          pusher: { name: "octocat", email: "octocat@example.com" },
          head_commit: { id: "1".repeat(40), message: "Ship the autumn catalogue", timestamp: iso },
        }),
      };
    case "shopify":
      return {
        body: JSON.stringify({
          id: 820982911946154500,
          admin_graphql_api_id: "gid://shopify/Order/820982911946154508",
          email: "jon@example.com",
          created_at: iso,
          currency: "EUR",
          total_price: "199.00",
          financial_status: "paid",
          line_items: [{
            id: 866550311766439000,
            sku: "IPOD2008PINK",
            title: "IPod Nano - 8GB",
            quantity: 1,
            price: "199.00",
          }],
        }),
      };
    case "close": {
      const [objectType, action] = type.includes(".") ? type.split(".", 2) : [type, "created"];
      return {
        body: JSON.stringify({
          subscription_id: `whsub_${random(10)}`,
          event: {
            id: `ev_${random(10)}`,
            date_created: iso,
            object_type: objectType,
            action,
            object_id: `lead_${random(10)}`,
            lead_id: `lead_${random(10)}`,
            data: { display_name: "Wayne Enterprises", status_label: "Potential" },
          },
        }),
      };
    }
    case "twilio":
      return {
        form: true,
        body: new URLSearchParams({
          AccountSid: `AC${random(16)}`,
          MessageSid: `SM${random(16)}`,
          SmsSid: `SM${random(16)}`,
          From: "+15017122661",
          To: "+15558675310",
          Body: "Is my order on its way?",
          NumMedia: "0",
          MessageStatus: type,
          SmsStatus: type,
          ApiVersion: "2010-04-01",
        }).toString(),
      };
    case "paypal":
      return {
        body: JSON.stringify({
          id: `WH-${random(10).toUpperCase()}`,
          event_version: "1.0",
          create_time: iso,
          resource_type: "capture",
          event_type: type,
          summary: "Payment completed for EUR 42.0 EUR",
          resource: {
            id: random(8).toUpperCase(),
            status: "COMPLETED",
            amount: { currency_code: "EUR", value: "42.00" },
          },
        }),
      };
    default:
      return {
        body: JSON.stringify({
          id: `evt_${random(12)}`,
          type,
          created_at: iso,
          data: { order_id: crypto.randomUUID(), carrier: "DHL", tracking_number: "JD014600006281230815" },
        }),
      };
  }
}

/** The headers with which the provider signs `body` for this source. */
async function signatureHeaders(input: SampleInput, body: string, type: string, now: number, form: boolean) {
  const secret = input.secret ?? "";
  switch (input.kind) {
    case "standard-webhooks": {
      const id = `msg_${random(12)}`;
      return {
        "webhook-id": id,
        "webhook-timestamp": String(now),
        "webhook-signature": standardWebhooksSignature(secret, id, now, body),
      };
    }
    case "stripe":
      return { "stripe-signature": await stripeSignature(body, secret, now) };
    case "github":
      return {
        "x-github-event": type,
        "x-github-delivery": crypto.randomUUID(),
        "x-github-hook-id": "292430182",
        "x-hub-signature-256": await githubSignature(body, secret),
      };
    case "shopify":
      return {
        "x-shopify-topic": type,
        "x-shopify-webhook-id": crypto.randomUUID(),
        "x-shopify-shop-domain": "octo-shop.myshopify.com",
        "x-shopify-api-version": "2025-10",
        "x-shopify-triggered-at": new Date(now * 1000).toISOString(),
        "x-shopify-hmac-sha256": await shopifySignature(body, secret),
      };
    case "close":
      return {
        "close-sig-timestamp": String(now),
        "close-sig-hash": await closeSignature(body, secret, String(now)),
      };
    case "twilio":
      return {
        "i-twilio-idempotency-token": crypto.randomUUID(),
        "x-twilio-signature": await twilioSignature(input.url, body, secret, form),
      };
    case "paypal":
      return await paypalHeaders(input, body, now);
    case "hmac": {
      const options = genericHmacOptions.parse(input.options);
      const timestamp = options.timestamp_header ? String(now) : null;
      return {
        ...(options.timestamp_header ? { [options.timestamp_header]: String(now) } : {}),
        [options.header]: await genericHmacSignature(options, body, secret, timestamp),
      };
    }
    case "basic":
      return { authorization: basicAuthorization(basicOptions.parse(input.options).username, secret) };
    case "api-key": {
      const options = apiKeyOptions.parse(input.options);
      return "header" in options ? { [options.header]: secret } : {};
    }
    case "none":
      return {};
  }
}

async function paypalHeaders(input: SampleInput, body: string, now: number): Promise<Record<string, string>> {
  if (!input.paypal) throw new Error("a PayPal sample needs a signing key and the URL of its certificate");
  const { webhook_id: webhookId } = paypalOptions.parse(input.options);
  const id = crypto.randomUUID();
  const time = new Date(now * 1000).toISOString();
  const message = new TextEncoder().encode(paypalMessage(id, time, webhookId, body));
  const signature = new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", input.paypal.privateKey, message));
  return {
    "paypal-transmission-id": id,
    "paypal-transmission-time": time,
    "paypal-transmission-sig": toBase64(signature),
    "paypal-cert-url": input.paypal.certUrl,
    "paypal-auth-algo": "SHA256withRSA",
  };
}

/**
 * A realistic request of the provider's, signed exactly as that provider signs it, for the
 * source described by `input`: what `POST /webhook-sources/:id/test` and `npm run trigger` send.
 */
export async function signedSample(input: SampleInput): Promise<SignedRequest & { type: string }> {
  const now = input.now ?? Math.floor(Date.now() / 1000);
  const type = input.type ?? DEFAULT_TYPE[input.kind];
  const { body, form = false } = sampleBody(input.kind, type, now);
  let url = input.url;
  if (input.kind === "twilio" && !form) url += `${url.includes("?") ? "&" : "?"}bodySHA256=${await sha256Hex(body)}`;
  if (input.kind === "api-key") {
    const options = apiKeyOptions.parse(input.options);
    if ("query" in options) {
      url += `${url.includes("?") ? "&" : "?"}${options.query}=${encodeURIComponent(input.secret ?? "")}`;
    }
  }
  const headers = {
    "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
    ...(await signatureHeaders({ ...input, url }, body, type, now, form)),
  };
  return { url, headers, body, type };
}
