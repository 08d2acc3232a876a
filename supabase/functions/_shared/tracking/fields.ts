// Valibot, not zod: the browser tracking client (client/tracking.ts) bundles these schemas, and
// valibot's are functions that tree-shake to what a schema uses: some 3 KiB gzipped here, where
// zod/mini's core weighed 8 to 9 KiB and the full `z` namespace some 95 KiB (`npm run size`).
// The functions run the same schemas (zod-bridge.ts puts them inside their zod ones), so the
// client refuses exactly what the functions refuse.
import * as v from "valibot";
import { canonicalizeUrl } from "../url/canonical.ts";

const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);

/** A value that is an object and not an array, as zod has objects (valibot's take arrays too). */
export const objectLike = <T>() =>
  v.custom<T>(isObject, (issue) => `Invalid type: Expected Object but received ${issue.received}`);

/** An object with exactly these keys (the optional ones may be absent); any other key is refused. */
export const strictObject = <E extends v.ObjectEntries>(entries: E) =>
  v.pipe(objectLike<v.InferInput<v.StrictObjectSchema<E, undefined>>>(), v.strictObject(entries));

/** Refuses the value inside a transformation (`v.rawTransform`) with `message`. */
export function refuse(context: { addIssue(info: { message: string }): void; NEVER: never }, message: string): never {
  context.addIssue({ message });
  return context.NEVER;
}

/** A client-generated browser session id (the client module makes one per tab session). */
export const sessionIdSchema = v.pipe(
  v.string(),
  v.trim(),
  v.regex(/^[A-Za-z0-9_.:-]{8,128}$/, "Use 8 to 128 letters, digits or _ . : -"),
);

/** What kind of thing was shared or viewed, as a lowercase slug: `product`, `blog_post`. */
export const contentTypeSchema = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "Use a lowercase slug of up to 64 letters, digits, _ or -"),
);

/** The shared or viewed item's id in the app. */
export const contentIdSchema = v.pipe(
  v.string(),
  v.trim(),
  v.minLength(1),
  v.maxLength(128),
  v.regex(/^[^\p{Cc}]+$/u, "No control characters"),
);

/** A URL as a page sends it, before any check of its form. */
export const urlTextSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(2048));

/** An absolute http(s) URL, canonicalized: tracking parameters removed, UTM values kept apart. */
export const pageUrlSchema = v.pipe(
  urlTextSchema,
  v.rawTransform((context) =>
    canonicalizeUrl(context.dataset.value) ?? refuse(context, "Send an absolute http(s) URL")
  ),
);

const utmValue = v.optional(
  v.pipe(v.string(), v.trim(), v.maxLength(200), v.regex(/^[^\p{Cc}]*$/u, "No control characters")),
);

/** UTM values a page passes explicitly; those in the URL are extracted as well. */
export const utmSchema = strictObject({
  source: utmValue,
  medium: utmValue,
  campaign: utmValue,
  term: utmValue,
  content: utmValue,
});

/** The host of a referrer URL, or null: paths and queries of referrers can carry tokens and personal data. */
export function referrerHost(referrer: string | undefined): string | null {
  if (!referrer) return null;
  try {
    return new URL(referrer).hostname || null;
  } catch {
    return null;
  }
}
