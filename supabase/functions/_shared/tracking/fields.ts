// zod/mini, not zod: the browser tracking client (client/tracking.ts) bundles these schemas, and
// the functional API tree-shakes to a few KiB where the full `z` namespace weighs some 450 KiB.
// They are ordinary zod schemas at runtime (safeParse, issues, messages), written as classic
// zod's methods are defined: `.trim()` is `.check(z.trim())`, `.transform(f)` is
// `z.pipe(s, z.transform(f))`, `.optional()` is `z.optional(s)`.
import * as z from "zod/mini";
import { canonicalizeUrl } from "../url/canonical.ts";

/** A client-generated browser session id (the client module makes one per tab session). */
export const sessionIdSchema = z.string().check(
  z.trim(),
  z.regex(/^[A-Za-z0-9_.:-]{8,128}$/, "Use 8 to 128 letters, digits or _ . : -"),
);

/** What kind of thing was shared or viewed, as a lowercase slug: `product`, `blog_post`. */
export const contentTypeSchema = z.string().check(
  z.trim(),
  z.toLowerCase(),
  z.regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "Use a lowercase slug of up to 64 letters, digits, _ or -"),
);

/** The shared or viewed item's id in the app. */
export const contentIdSchema = z.string().check(
  z.trim(),
  z.minLength(1),
  z.maxLength(128),
  z.regex(/^[^\p{Cc}]+$/u, "No control characters"),
);

/** A URL as a page sends it, before any check of its form. */
export const urlTextSchema = z.string().check(z.trim(), z.minLength(1), z.maxLength(2048));

/** An absolute http(s) URL, canonicalized: tracking parameters removed, UTM values kept apart. */
export const pageUrlSchema = z.pipe(
  urlTextSchema,
  z.transform((url: string, ctx) => {
    const canonical = canonicalizeUrl(url);
    if (canonical === null) {
      ctx.issues.push({ code: "custom", message: "Send an absolute http(s) URL", input: url });
      return z.NEVER;
    }
    return canonical;
  }),
);

const utmValue = z.optional(
  z.string().check(z.trim(), z.maxLength(200), z.regex(/^[^\p{Cc}]*$/u, "No control characters")),
);

/** UTM values a page passes explicitly; those in the URL are extracted as well. */
export const utmSchema = z.strictObject({
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
