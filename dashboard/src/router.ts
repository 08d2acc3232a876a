// Routes live in the hash (`#/events?status=failed`), so any static host serves the app and a
// view with its filters is a link an operator can share. The credential never goes here.

/** The view named by the location, and its filters. */
export interface Location {
  path: string;
  params: URLSearchParams;
}

/** The current location. */
export function here(): Location {
  const hash = location.hash.replace(/^#/, "") || "/overview";
  const [path, query = ""] = hash.split("?");
  return { path, params: new URLSearchParams(query) };
}

/** Goes to `path` with `params` (empty values left out). */
export function go(path: string, params: Record<string, string | undefined> | URLSearchParams = {}): void {
  const entries = params instanceof URLSearchParams ? [...params] : Object.entries(params);
  const query = new URLSearchParams(entries.filter(([, value]) => value !== undefined && value !== "") as string[][]);
  const next = `#${path}${query.size > 0 ? `?${query}` : ""}`;
  if (location.hash !== next) location.hash = next;
  else window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** The current view with some filters changed (undefined or "" removes one). */
export function withParams(changes: Record<string, string | undefined>): void {
  const { path, params } = here();
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined || value === "") params.delete(key);
    else params.set(key, value);
  }
  go(path, params);
}
