import { cursorParamOf } from "../_shared/http/cursor.ts";

export { type Cursor, CURSOR_AT_FORMAT, encodeCursor } from "../_shared/http/cursor.ts";

/** A `?cursor=` query parameter: a `next_cursor` this API returned, decoded (endpoint and delivery ids are uuids). */
export const cursorParam = cursorParamOf("uuid");
