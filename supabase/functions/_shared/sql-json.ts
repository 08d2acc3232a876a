import type { z } from "zod";
import type { Sql } from "./db.ts";
import { jsonbText } from "./jsonb-text.ts";

/**
 * JSON handed to SQL functions, as a query fragment: `sql\`select f(${jsonb(sql, value)})\``.
 *
 * The JSON travels as text and is cast in SQL. Without `prepare: false` postgres.js would learn
 * that the parameter is jsonb and encode it itself; with it (the transaction pooler needs it), a
 * plain string bound to jsonb would be encoded a second time, as a JSON string. NUL escapes are
 * made storable on the way (see jsonbText).
 */
export function jsonb(sql: Sql, value: unknown) {
  return jsonbFromText(sql, JSON.stringify(value));
}

/** Like {@link jsonb}, for JSON that is already text and must be stored as sent (a provider's raw body). */
export function jsonbFromText(sql: Sql, json: string) {
  return sql`${jsonbText(json)}::text::jsonb`;
}

/**
 * Like {@link jsonb}, after checking `value` against the schema that documents what the SQL
 * function expects, so a builder that drifts from it fails here and not as a SQL error.
 */
export function typedJsonb<T>(sql: Sql, schema: z.ZodType<T>, value: T) {
  return jsonb(sql, schema.parse(value));
}
