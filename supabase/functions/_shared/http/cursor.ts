import { z } from "zod";
import { isUuid } from "../uuid.ts";

/** Where a page ended: the last row's time (microseconds, UTC) and id (a uuid or a bigint, as text). */
export interface Cursor {
  at: string;
  id: string;
}

/** The kinds of primary key a cursor can carry: uuid (endpoints, sources) or bigint (webhook_events). */
export type CursorId = "uuid" | "bigint";

// Postgres keeps microseconds; a JavaScript Date would round them away and skip or repeat rows.
const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
// A positive bigint: at most 19 digits and not above 2^63 - 1, so the ::bigint cast cannot fail.
const BIGINT = /^[1-9]\d{0,18}$/;
const BIGINT_MAX = 9223372036854775807n;

/** True for the text of a positive bigint that Postgres' ::bigint cast accepts (1 to 2^63 - 1). */
export const isBigintId = (id: string) => BIGINT.test(id) && BigInt(id) <= BIGINT_MAX;

const validId: Record<CursorId, (id: string) => boolean> = { uuid: isUuid, bigint: isBigintId };

/** The opaque `next_cursor` of a page ending at `cursor`. */
export function encodeCursor(cursor: Cursor): string {
  return btoa(`${cursor.at}|${cursor.id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(value: string, kind: CursorId): Cursor | null {
  try {
    const [at, id, ...rest] = atob(value.replace(/-/g, "+").replace(/_/g, "/")).split("|");
    return rest.length === 0 && AT.test(at) && id !== undefined && validId[kind](id) ? { at, id } : null;
  } catch {
    return null;
  }
}

/** A `?cursor=` query parameter for ids of `kind`: a `next_cursor` the API returned, decoded. */
export function cursorParamOf(kind: CursorId): z.ZodType<Cursor, string> {
  return z.string().max(200).transform((value, ctx) => {
    const cursor = decodeCursor(value, kind);
    if (!cursor) ctx.addIssue({ code: "custom", message: "is not a cursor returned by this API" });
    return cursor ?? z.NEVER;
  });
}

/** The to_char format whose text a {@link Cursor}'s `at` holds, for a timestamptz column. */
export const CURSOR_AT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** A page of a list, newest first: its rows and the cursor of the next page (null on the last). */
export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

/**
 * The page of `rows` fetched with `limit + 1`: the first `limit`, without their `cursor_at`
 * (the to_char of {@link CURSOR_AT_FORMAT}), and a next cursor only when a row was left over.
 */
export function pageOf<T extends { id: string | number }>(
  rows: (T & { cursor_at: string })[],
  limit: number,
): Page<T> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    data: shown.map(({ cursor_at: _, ...row }) => row as unknown as T),
    next_cursor: rows.length > limit && last ? encodeCursor({ at: last.cursor_at, id: String(last.id) }) : null,
  };
}
