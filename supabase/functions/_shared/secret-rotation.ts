import type { Sql } from "./db.ts";
import type { AuthorizedCaller } from "./http/caller-auth.ts";
import { HttpError } from "./http/errors.ts";

/** The tables whose rows sign or verify with a secret that rotates: partners' endpoints and inbound sources. */
export type RotatingTable = "webhook_endpoints" | "webhook_sources";

/** What a rotation did: the row with its new secret, or the time an earlier rotation's secret is still valid until. */
export type Rotation<T> =
  | { outcome: "rotated"; row: T & { secret: string } }
  | { outcome: "in_progress"; previousExpiresAt: Date };

/**
 * Installs `secret` on the caller's row `id`; the current one stays valid as previous_secret
 * for 24 hours, the overlap partners and providers need to switch. A row holds one previous
 * secret, so rotating again while it is valid would cut its 24 hours short: that happens only
 * with `expirePrevious`, and otherwise the answer is `in_progress`. Null when there is no such row.
 */
export async function rotateSecret<T>(
  sql: Sql,
  table: RotatingTable,
  columns: string[],
  caller: AuthorizedCaller,
  id: string,
  secret: string,
  expirePrevious: boolean,
): Promise<Rotation<T> | null> {
  const scope = caller.kind === "platform" ? sql`true` : sql`t.tenant_id = ${caller.tenantId}`;
  const [row] = await sql`
    update ${sql(`public.${table}`)} t set
      previous_secret = t.secret, secret = ${secret},
      previous_secret_expires_at = now() + interval '24 hours', updated_at = now()
    where t.id = ${id} and ${scope}
      and (${expirePrevious} or t.previous_secret_expires_at is null or t.previous_secret_expires_at <= now())
    returning ${sql(columns)}, t.secret`;
  if (row) return { outcome: "rotated", row: row as T & { secret: string } };
  const [current] = await sql<{ previous_secret_expires_at: Date }[]>`
    select t.previous_secret_expires_at from ${sql(`public.${table}`)} t where t.id = ${id} and ${scope}`;
  return current ? { outcome: "in_progress", previousExpiresAt: current.previous_secret_expires_at } : null;
}

/** 409 `rotation_in_progress`: the answer to rotating again while the last rotation's secret is valid. */
export function rotationInProgress(previousExpiresAt: Date): HttpError {
  return new HttpError(
    409,
    "rotation_in_progress",
    `The secret replaced by the last rotation is valid until ${previousExpiresAt.toISOString()}; ` +
      'rotate again after that, or send {"expire_previous": true} to end it now.',
  );
}
