import { HttpError, type SecurityKind } from "../_shared/http/errors.ts";
import { checkWebhookUrl, type Resolver, type UrlPolicy } from "../_shared/ssrf.ts";

const refuse = (code: string, reason: string, security?: SecurityKind) =>
  new HttpError(400, code, reason, { details: [{ path: "url", message: reason }], security });

/**
 * The URL to store for an endpoint, normalized, or a 400 saying why it cannot receive
 * webhooks: unparseable, a fragment (never sent, so it would only mislead), then the SSRF
 * guard's refusals (scheme, credentials, unresolvable, forbidden address → `forbidden_url`).
 * The message names the host and the kind of address, never the addresses it resolved to.
 */
export async function acceptableEndpointUrl(raw: string, policy: UrlPolicy, resolve?: Resolver): Promise<string> {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw refuse("invalid_url", "The URL cannot be parsed.");
  }
  // `hash` is "" for a bare trailing "#", which href still keeps; "#" appears nowhere else in href.
  if (parsed.href.includes("#")) throw refuse("invalid_url", "The URL must not contain a fragment (#...).");
  const check = await checkWebhookUrl(raw, policy, resolve);
  // Pointing a webhook at an internal address is recorded as a security event.
  if (!check.ok && check.code === "forbidden_address") throw refuse("forbidden_url", check.reason, "ssrf_blocked");
  if (!check.ok) throw refuse(check.code, check.reason);
  return check.url.href;
}
