// Valibot, like the shared fields: the browser tracking client bundles this module (see fields.ts).
import * as v from "valibot";
import {
  contentIdSchema,
  contentTypeSchema,
  pageUrlSchema,
  refuse,
  sessionIdSchema,
  strictObject,
  urlTextSchema,
  utmSchema,
} from "../_shared/tracking/fields.ts";
import { normalizePlatform, PLATFORMS } from "./platform.ts";

/** The body of a share, as a browser sends it. */
export const shareRequestSchema = strictObject({
  /** The page or item that was shared; tracking parameters are removed, UTM values kept apart. */
  url: pageUrlSchema,
  content_type: contentTypeSchema,
  content_id: contentIdSchema,
  /** Any spelling of a known platform (`Twitter`, `copy-link`); detected from share_url or referrer when absent. */
  platform: v.pipe(
    v.optional(v.pipe(v.string(), v.trim(), v.maxLength(32))),
    v.rawTransform((context) => {
      const value = context.dataset.value;
      if (value === undefined || value === "") return undefined;
      return normalizePlatform(value) ?? refuse(context, `Use one of: ${PLATFORMS.join(", ")}`);
    }),
  ),
  /** The intent link the user followed (`https://twitter.com/intent/tweet?...`, `mailto:...`). */
  share_url: v.optional(urlTextSchema),
  referrer: v.optional(urlTextSchema),
  utm: v.optional(utmSchema),
  session_id: sessionIdSchema,
});

/** A share as the client module builds it (before the function's normalization). */
export type ShareRequest = v.InferInput<typeof shareRequestSchema>;

/** A share after validation. */
export type ValidShare = v.InferOutput<typeof shareRequestSchema>;

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
