import { HttpError } from "../http/errors.ts";

/**
 * How far a signed timestamp may be from now unless a source says otherwise: 5 minutes, the
 * window of Stripe's SDK and of Standard Webhooks, so a captured request cannot be replayed later.
 */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** 401 `missing_signature`: the scheme's header is absent. */
export const missingSignature = (what: string) =>
  new HttpError(401, "missing_signature", `The ${what} header is required.`, { security: "signature_failure" });

/** 401 `invalid_signature`: garbled, or right for none of the secrets. */
export const invalidSignature = (what: string) =>
  new HttpError(401, "invalid_signature", `The ${what} header does not match the body.`, {
    security: "signature_failure",
  });

/** 401 `timestamp_outside_tolerance`: a valid signature on a stale timestamp, a replay. */
export const outsideTolerance = () =>
  new HttpError(401, "timestamp_outside_tolerance", "The signature timestamp is outside the tolerance.", {
    security: "replay",
  });

/** True when Unix-seconds `timestamp` is within `tolerance` of `now`. */
export function withinTolerance(timestamp: number, tolerance: number, now = Math.floor(Date.now() / 1000)): boolean {
  return Number.isFinite(timestamp) && Math.abs(now - timestamp) <= tolerance;
}
