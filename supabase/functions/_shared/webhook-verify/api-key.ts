import { z } from "zod";
import { HttpError } from "../http/errors.ts";
import { secretsEqual } from "../secrets-equal.ts";
import type { Verify } from "./types.ts";

const NAME = /^[A-Za-z0-9_-]{1,100}$/;

/** Where an api-key source's key travels: a header (default `x-api-key`) or a query parameter. */
export const apiKeyOptions = z.union([
  z.strictObject({ header: z.string().regex(NAME) }),
  z.strictObject({ query: z.string().regex(NAME) }),
  z.strictObject({}).transform(() => ({ header: "x-api-key" })),
]);

/** API key settings with the default applied. */
export type ApiKeyOptions = z.infer<typeof apiKeyOptions>;

/** The key as the request presents it, from the header or the query parameter the source names. */
function presentedKey(options: ApiKeyOptions, headers: Headers, url: URL): string | null {
  return "query" in options ? url.searchParams.get(options.query) : headers.get(options.header);
}

/** An API key in a header or the query, compared in constant time with every secret in force. */
export const verifyApiKey: Verify = ({ headers, url, secrets, options }) => {
  const settings = apiKeyOptions.parse(options);
  const where = "query" in settings ? `${settings.query} query parameter` : `${settings.header} header`;
  const presented = presentedKey(settings, headers, url);
  if (!presented) {
    throw new HttpError(401, "missing_credentials", `The ${where} is required.`, { security: "auth_failure" });
  }
  if (!secrets.map((secret) => secretsEqual(presented, secret)).includes(true)) {
    throw new HttpError(401, "invalid_credentials", `The ${where} does not match.`, { security: "auth_failure" });
  }
  return Promise.resolve();
};
