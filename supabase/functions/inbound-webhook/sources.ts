import type { Sql } from "../_shared/db.ts";
import type { VerifierKind } from "../_shared/webhook-verify/types.ts";

/** What verifying and recording a source's request needs of its row. */
export interface Source {
  id: string;
  name: string;
  verifier: VerifierKind;
  verifier_options: Record<string, unknown>;
  /** The current secret, then the one a rotation replaced while it is still accepted. */
  secrets: string[];
  event_id: string | null;
  event_type: string | null;
  tolerance_seconds: number;
}

/** Looks sources up by id, reusing a lookup for `cacheSeconds`. */
export interface SourceCache {
  /** The active source with this id, or null. `fresh` skips the cache (a secret may have just rotated). */
  get(id: string, options?: { fresh?: boolean }): Promise<Source | null>;
}

/**
 * The source cache. Every request of a busy source would otherwise cost a query before its
 * record; a few seconds of reuse makes that one query per source per interval. Unknown ids
 * are cached too, so a scanner's random ids cost no more than a real source. The price is
 * that a disabled source keeps answering for up to `cacheSeconds` (its events are then
 * recorded as failed, never lost), and a rotated secret is picked up by the reload that
 * inbound-webhook does when a signature fails.
 */
export function sourceCache(sql: Sql, cacheSeconds: number, now = () => Date.now()): SourceCache {
  const cache = new Map<string, { source: Promise<Source | null>; until: number }>();
  // A bound, so random ids cannot grow the map without limit: past it, start afresh.
  const MAX_ENTRIES = 10_000;
  const load = async (id: string) => {
    const [row] = await sql<Source[]>`
      select s.id, s.name, s.verifier, s.verifier_options, s.event_id, s.event_type, s.tolerance_seconds,
             array_remove(array[s.secret,
               case when s.previous_secret_expires_at > now() then s.previous_secret end], null) as secrets
      from public.webhook_sources s
      where s.id = ${id} and s.active`;
    return row ?? null;
  };
  return {
    get(id, options = {}) {
      const cached = cache.get(id);
      if (cached && cached.until > now() && !options.fresh) return cached.source;
      const source = load(id);
      if (cacheSeconds > 0) {
        if (cache.size >= MAX_ENTRIES) cache.clear();
        cache.set(id, { source, until: now() + cacheSeconds * 1000 });
        source.catch(() => cache.delete(id));
      }
      return source;
    },
  };
}
