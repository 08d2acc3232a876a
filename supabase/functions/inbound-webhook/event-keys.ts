import { sha256Hex } from "../_shared/bytes.ts";
import { locate } from "../_shared/event-location.ts";
import type { Source } from "./sources.ts";

// Longer ids than this are hashed: the key must stay short enough to index, and a provider
// id this long is not one a person reads.
const MAX_ID_LENGTH = 200;
const MAX_TYPE_LENGTH = 200;

/**
 * The event's dedup key and type (the source's locations start as its scheme's defaults, see
 * schemes.ts). The id comes from the source's location, else the id the
 * signature covers (Standard Webhooks' webhook-id), else the SHA-256 of the body, so an exact
 * redelivery is still a duplicate; the type from its location, else 'unknown'.
 */
export async function eventKeys(
  source: Source,
  headers: Headers,
  payload: unknown,
  rawBody: string,
  signedId: string | void,
): Promise<{ id: string; type: string }> {
  const located = (source.event_id ? locate(source.event_id, headers, payload) : null) ?? signedId ?? null;
  const id = located && located.length <= MAX_ID_LENGTH ? located : `sha256:${await sha256Hex(located ?? rawBody)}`;
  const type = (source.event_type ? locate(source.event_type, headers, payload) : null)?.slice(0, MAX_TYPE_LENGTH) ||
    "unknown";
  return { id, type };
}
