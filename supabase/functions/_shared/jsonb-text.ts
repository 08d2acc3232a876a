// Every escape in JSON text, read left to right so that a run of backslashes pairs up as it
// does in a JSON parser (`\\u0000` is an escaped backslash and the plain text "u0000"): a
// surrogate pair, another \u escape, or any other escaped character.
const ESCAPE = /\\u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|\\u([0-9a-fA-F]{4})|\\[^u]/g;

// U+0000, and a surrogate that is not half of a pair.
const UNSTORABLE = /^(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})$/;

/**
 * JSON text that Postgres' jsonb accepts. jsonb cannot hold U+0000, nor a lone surrogate
 * (`\ud800` not followed by its low half: JSON.parse takes it, the jsonb cast refuses it), so a
 * provider payload with one failed the cast and was answered 500 on every redelivery until
 * the provider gave up: the event was lost. Each such escape becomes `\ufffd`, the
 * replacement character; everything else is kept byte for byte.
 */
export function jsonbText(json: string): string {
  if (!json.includes("\\u")) return json;
  return json.replace(
    ESCAPE,
    (escape, _high, _low, single: string | undefined) =>
      single !== undefined && UNSTORABLE.test(single) ? "\\ufffd" : escape,
  );
}
