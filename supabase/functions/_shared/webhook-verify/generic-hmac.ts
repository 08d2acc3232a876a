import { z } from "zod";
import { secretsEqual } from "../secrets-equal.ts";
import { invalidSignature, missingSignature, outsideTolerance, withinTolerance } from "./failures.ts";
import { hmac } from "./hmac.ts";
import type { Verify } from "./types.ts";

/** The settings of a generic HMAC source: what is signed, how, and where the signature travels. */
export const genericHmacOptions = z.strictObject({
  algorithm: z.enum(["sha1", "sha256", "sha512"]).default("sha256"),
  encoding: z.enum(["hex", "base64"]).default("hex"),
  header: z.string().regex(/^[A-Za-z0-9-]{1,100}$/).default("x-signature"),
  prefix: z.string().max(50).default(""),
  timestamp_header: z.string().regex(/^[A-Za-z0-9-]{1,100}$/).optional(),
  signed_payload: z.string().max(200).refine((template) => template.includes("{body}"), "must contain {body}")
    .optional(),
});

/** Generic HMAC settings with defaults applied. */
export type GenericHmacOptions = z.infer<typeof genericHmacOptions>;

/** The signed message: the template (default `{body}`, or `{timestamp}.{body}` with a timestamp header) filled in. */
function signedPayload(options: GenericHmacOptions, body: string, timestamp: string | null): string {
  const template = options.signed_payload ?? (options.timestamp_header ? "{timestamp}.{body}" : "{body}");
  return template.replaceAll("{timestamp}", timestamp ?? "").replaceAll("{body}", body);
}

/** The signature header value a generic HMAC sender puts on `body` (timestamp in Unix seconds, if the source signs one). */
export async function genericHmacSignature(
  options: GenericHmacOptions,
  body: string,
  secret: string,
  timestamp: string | null,
): Promise<string> {
  return options.prefix +
    await hmac(options.algorithm, secret, signedPayload(options, body, timestamp), options.encoding);
}

/**
 * Generic HMAC: the signature header carries `prefix` + the HMAC of the signed payload, keyed
 * by the secret's UTF-8 bytes. With a timestamp header, the timestamp is signed and must be
 * within the tolerance, checked after the signature so that a stale but genuine request is
 * reported as a replay and a forgery as an invalid signature.
 */
export const verifyGenericHmac: Verify = async ({ rawBody, headers, secrets, options, toleranceSeconds, now }) => {
  const settings = genericHmacOptions.parse(options);
  const header = headers.get(settings.header);
  const timestamp = settings.timestamp_header ? headers.get(settings.timestamp_header) : null;
  if (!header || (settings.timestamp_header && !timestamp)) {
    throw missingSignature([settings.header, settings.timestamp_header].filter(Boolean).join(" and "));
  }
  for (const secret of secrets) {
    const expected = await genericHmacSignature(settings, rawBody, secret, timestamp);
    if (!secretsEqual(header, expected)) continue;
    if (timestamp !== null && !withinTolerance(Number(timestamp), toleranceSeconds, now)) throw outsideTolerance();
    return;
  }
  throw invalidSignature(settings.header);
};
