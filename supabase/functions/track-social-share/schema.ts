// zod/mini, like the shared fields: the browser tracking client bundles this module (see fields.ts).
import * as z from "zod/mini";
import {
  contentIdSchema,
  contentTypeSchema,
  pageUrlSchema,
  sessionIdSchema,
  urlTextSchema,
  utmSchema,
} from "../_shared/tracking/fields.ts";
import { normalizePlatform, PLATFORMS } from "./platform.ts";

/** The body of a share, as a browser sends it. */
export const shareRequestSchema = z.strictObject({
  /** The page or item that was shared; tracking parameters are removed, UTM values kept apart. */
  url: pageUrlSchema,
  content_type: contentTypeSchema,
  content_id: contentIdSchema,
  /** Any spelling of a known platform (`Twitter`, `copy-link`); detected from share_url or referrer when absent. */
  platform: z.pipe(
    z.optional(z.string().check(z.trim(), z.maxLength(32))),
    z.transform((value: string | undefined, ctx) => {
      if (value === undefined || value === "") return undefined;
      const platform = normalizePlatform(value);
      if (platform === null) {
        ctx.issues.push({ code: "custom", message: `Use one of: ${PLATFORMS.join(", ")}`, input: value });
        return z.NEVER;
      }
      return platform;
    }),
  ),
  /** The intent link the user followed (`https://twitter.com/intent/tweet?...`, `mailto:...`). */
  share_url: z.optional(urlTextSchema),
  referrer: z.optional(urlTextSchema),
  utm: z.optional(utmSchema),
  session_id: sessionIdSchema,
});

/** A share as the client module builds it (before the function's normalization). */
export type ShareRequest = z.input<typeof shareRequestSchema>;

/** A share after validation. */
export type ValidShare = z.output<typeof shareRequestSchema>;

/** What track-social-share answers: 201 for a counted share, 200 for a repeat within the window. */
export interface ShareResponse {
  share: {
    id: string;
    platform: (typeof PLATFORMS)[number];
    url: string;
    counted: boolean;
    created_at: string;
  };
}
