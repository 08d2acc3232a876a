import { verifyApiKey } from "./api-key.ts";
import { verifyBasic } from "./basic.ts";
import { verifyClose } from "./close.ts";
import { verifyGenericHmac } from "./generic-hmac.ts";
import { verifyGithub } from "./github.ts";
import { verifyPaypal } from "./paypal.ts";
import { verifyShopify } from "./shopify.ts";
import { verifyStandardWebhooks } from "./standard-webhooks.ts";
import { verifyStripe } from "./stripe.ts";
import { verifyTwilio } from "./twilio.ts";
import type { VerifierKind, Verify } from "./types.ts";

/** What the verifiers need from outside: PayPal's certificates (see paypalCertificates). */
export interface VerifierDeps {
  paypalCertificate(url: string): Promise<CryptoKey>;
}

/** The verifier of every scheme, by `webhook_sources.verifier`. `none` accepts every request, as its owner chose. */
export function createVerifiers(deps: VerifierDeps): Record<VerifierKind, Verify> {
  return {
    "standard-webhooks": verifyStandardWebhooks,
    stripe: verifyStripe,
    github: verifyGithub,
    shopify: verifyShopify,
    close: verifyClose,
    twilio: verifyTwilio,
    paypal: verifyPaypal(deps.paypalCertificate),
    hmac: verifyGenericHmac,
    basic: verifyBasic,
    "api-key": verifyApiKey,
    none: () => Promise.resolve(),
  };
}
