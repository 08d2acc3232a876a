import { z } from "zod";
import { toBase64 } from "../bytes.ts";
import { HttpError } from "../http/errors.ts";
import { secretsEqual } from "../secrets-equal.ts";
import type { Verify } from "./types.ts";

/** A basic-auth source's settings: the user name the provider sends; the secret is the password. */
export const basicOptions = z.strictObject({ username: z.string().min(1).max(200).regex(/^[^:]*$/) });

const unauthorized = (code: string, message: string) =>
  new HttpError(401, code, message, {
    security: "auth_failure",
    headers: { "www-authenticate": 'Basic realm="inbound-webhook"' },
  });

/** The `Authorization` header a provider configured with this user name and password sends. */
export const basicAuthorization = (username: string, password: string) =>
  `Basic ${toBase64(new TextEncoder().encode(`${username}:${password}`))}`;

/** HTTP basic authentication: user name and password, each compared in constant time. */
export const verifyBasic: Verify = ({ headers, secrets, options }) => {
  const { username } = basicOptions.parse(options);
  const presented = headers.get("authorization");
  if (!presented) throw unauthorized("missing_credentials", "The Authorization header (Basic) is required.");
  // Every candidate is compared, so timing does not tell which part was wrong.
  const ok = secrets.map((secret) => secretsEqual(presented, basicAuthorization(username, secret))).includes(true);
  if (!ok) throw unauthorized("invalid_credentials", "The Authorization header does not match.");
  return Promise.resolve();
};
