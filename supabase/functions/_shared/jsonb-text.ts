// An odd run of backslashes before `u0000` is the escape of U+0000; an even run is escaped
// backslashes followed by the plain text "u0000", which jsonb takes and which must stay as sent.
const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * JSON text that Postgres' jsonb accepts. jsonb cannot hold U+0000, so a provider payload with
 * one (a NUL in a customer's metadata) failed the cast and was answered 500 on every
 * redelivery until the provider gave up: the event was lost. Each `\u0000` escape becomes
 * `\ufffd`, the replacement character; everything else is kept byte for byte.
 */
export function jsonbText(json: string): string {
  return json.includes("\\u0000") ? json.replace(NUL_ESCAPE, "$1\\ufffd") : json;
}
