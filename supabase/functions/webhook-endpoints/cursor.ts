import { z } from "zod";
import { isUuid } from "../_shared/uuid.ts";

/** Where a page ended: the last row's creation time (microseconds, UTC) and id. */
export interface Cursor {
  at: string;
  id: string;
}

// Postgres keeps microseconds; a JavaScript Date would round them away and skip or repeat rows.
const AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** The opaque `next_cursor` of a page ending at `cursor`. */
export function encodeCursor(cursor: Cursor): string {
  return btoa(`${cursor.at}|${cursor.id}`).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(value: string): Cursor | null {
  try {
    const [at, id, ...rest] = atob(value.replace(/-/g, "+").replace(/_/g, "/")).split("|");
    return rest.length === 0 && AT.test(at) && isUuid(id) ? { at, id } : null;
  } catch {
    return null;
  }
}

/** A `?cursor=` query parameter: a `next_cursor` this API returned, decoded. */
export const cursorParam = z.string().max(200).transform((value, ctx) => {
  const cursor = decodeCursor(value);
  if (!cursor) ctx.addIssue({ code: "custom", message: "is not a cursor returned by this API" });
  return cursor ?? z.NEVER;
});

/** The SQL expression whose text a {@link Cursor}'s `at` holds, for a `created_at` column. */
export const CURSOR_AT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';
