import type { Sql } from "../_shared/db.ts";
import { sha256Hex } from "../_shared/bytes.ts";
import { jsonb } from "../_shared/sql-json.ts";
import { type AnalyticsEventRow, type RequestFacts, utmColumns } from "../_shared/tracking/event-row.ts";
import { referrerHost } from "../_shared/tracking/fields.ts";
import { detectPlatform } from "./platform.ts";
import type { ShareResponse, ValidShare } from "./schema.ts";

// Where the share went: the intent link's host, or its scheme for mailto:, sms: and app links.
function destinationOf(shareUrl: string | undefined): string | null {
  if (!shareUrl) return null;
  try {
    const parsed = new URL(shareUrl);
    return parsed.hostname || parsed.protocol.slice(0, -1);
  } catch {
    return null;
  }
}

/**
 * Normalizes a validated share and records it with its analytics event, unless the same
 * sharer (user, else session) shared the same content at the same URL to the same platform
 * within `windowSeconds`: then the first one is returned, not counted again.
 */
export async function recordShare(
  sql: Sql,
  share: ValidShare,
  facts: RequestFacts,
  windowSeconds: number,
): Promise<{ status: 200 | 201; body: ShareResponse }> {
  const { url, utm } = share.url;
  const platform = detectPlatform({ platform: share.platform, shareUrl: share.share_url, referrer: share.referrer });
  const sharer = facts.user_id ?? `session:${share.session_id}`;
  const dedupKey = await sha256Hex([sharer, share.content_type, share.content_id, platform, url].join("\n"));
  const common = {
    platform,
    content_type: share.content_type,
    content_id: share.content_id,
    referrer_host: referrerHost(share.referrer),
    ...utmColumns(utm, share.utm),
    session_id: share.session_id,
    ...facts,
  };
  const event: AnalyticsEventRow = {
    ...common,
    client_event_id: crypto.randomUUID(),
    event_name: "share",
    custom: false,
    occurred_at: new Date().toISOString(),
    page_url: url,
    properties: {},
  };
  const [row] = await sql<{ id: string; counted: boolean; created_at: Date }[]>`
    select * from public.record_social_share(
      ${jsonb(sql, { ...common, url, share_host: destinationOf(share.share_url), dedup_key: dedupKey })},
      ${jsonb(sql, event)},
      ${windowSeconds})`;
  return {
    status: row.counted ? 201 : 200,
    body: { share: { id: row.id, platform, url, counted: row.counted, created_at: row.created_at.toISOString() } },
  };
}
