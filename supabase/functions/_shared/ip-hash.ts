import { sha256Hex } from "./bytes.ts";
import type { Sql } from "./db.ts";

/**
 * Turns client addresses into salted hashes under the day's salt (`analytics_salt`), shared by
 * every instance so a per-address rate limit holds across them. The salt is deleted after two
 * days, so a stored hash can then no longer be matched to an address, not even by us. The
 * address never reaches the database; one salt lookup per instance per UTC day.
 */
export function createIpHasher(sql: Sql, now: () => Date = () => new Date()): (ip: string) => Promise<string> {
  let cached: { day: string; salt: Promise<string> } | null = null;
  return async (ip) => {
    const day = now().toISOString().slice(0, 10);
    if (cached?.day !== day) {
      const salt = sql<{ salt: string }[]>`select public.analytics_salt(${day}::date) as salt`.then(([row]) =>
        row.salt
      );
      cached = { day, salt };
      // A failed lookup must not be cached for the rest of the day.
      salt.catch(() => cached?.salt === salt && (cached = null));
    }
    return (await sha256Hex(`${await cached.salt}:${ip}`)).slice(0, 32);
  };
}
