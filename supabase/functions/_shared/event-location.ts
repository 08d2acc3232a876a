/**
 * Where a source's event id or type is: a header name (`x-github-delivery`), a JSON path into
 * the body (`$.id`, `$.event.data[0].id`), or a template joining several (`{$.event.object_type}.{$.event.action}`
 * makes Close's `lead.created`). Form bodies (Twilio) are paths into their parameters.
 */

const HEADER = /^[A-Za-z0-9-]{1,100}$/;
const PATH = /^\$((\.[A-Za-z0-9_-]+)|(\[\d{1,4}\]))+$/;
const PART = /\{([^{}]+)\}/g;

/** Why `location` is not a header name, a JSON path or a template of them, or null when it is. */
export function locationProblem(location: string): string | null {
  if (location.length > 200) return "must be at most 200 characters";
  if (location.includes("{")) {
    const parts = [...location.matchAll(PART)].map((match) => match[1]);
    if (parts.length === 0 || location.replace(PART, "").includes("{") || location.replace(PART, "").includes("}")) {
      return "a template must put each location in braces, e.g. {$.object}.{$.action}";
    }
    const bad = parts.find((part) => locationProblem(part) !== null || part.includes("{"));
    return bad === undefined ? null : `"${bad}" in the template is neither a header name nor a JSON path`;
  }
  return HEADER.test(location) || PATH.test(location)
    ? null
    : "must be a header name (letters, digits, -) or a JSON path starting with $. (e.g. $.id)";
}

function atPath(payload: unknown, path: string): unknown {
  let value = payload;
  for (const [, name, index] of path.slice(1).matchAll(/\.([A-Za-z0-9_-]+)|\[(\d+)\]/g)) {
    if (value === null || typeof value !== "object") return undefined;
    value = name !== undefined ? (value as Record<string, unknown>)[name] : (value as unknown[])[Number(index)];
  }
  return value;
}

function single(location: string, headers: Headers, payload: unknown): string | null {
  if (!location.startsWith("$")) return headers.get(location);
  const value = atPath(payload, location);
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? String(value) : null;
}

/** The value at `location` (see {@link locationProblem}), or null where the request has none. */
export function locate(location: string, headers: Headers, payload: unknown): string | null {
  if (!location.includes("{")) return single(location, headers, payload);
  let missing = false;
  const text = location.replace(PART, (_, part: string) => {
    const value = single(part, headers, payload);
    missing ||= value === null;
    return value ?? "";
  });
  return missing ? null : text;
}
