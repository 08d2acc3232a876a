import postgres from "postgres";

/** The SQL client every function uses: the `postgres` package. */
export type Sql = postgres.Sql;

/** A piece of SQL built with the tag, to splice into another query. */
export type Fragment = postgres.Fragment;

/** Options of {@link createSql}. */
export interface SqlOptions {
  /** Shown in pg_stat_activity, so an operator can tell the functions apart. */
  applicationName: string;
  /** Pool size per function instance. */
  max?: number;
}

/**
 * A pooled client for `SUPABASE_DB_URL`. `prepare: false` keeps it usable through the
 * transaction pooler (port 6543), and the short connect timeout turns an unreachable
 * database into a fast 503 instead of a request that hangs until the sender gives up.
 */
export function createSql(url: string, options: SqlOptions): Sql {
  return postgres(url, {
    prepare: false,
    max: options.max ?? 10,
    idle_timeout: 30,
    connect_timeout: 5,
    onnotice: () => {},
    connection: { application_name: options.applicationName },
  });
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "40001", // serialization_failure
  "40P01", // deadlock_detected
  "53300", // too_many_connections
  "55P03", // lock_not_available
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now
]);

/**
 * True when a database error says "try again later" rather than "this request is wrong":
 * the answer is then 503, so the sender retries and nothing is lost.
 */
export function isTransientDbError(error: unknown): boolean {
  if (!error || typeof error !== "object") return false;
  const code = String((error as { code?: unknown }).code ?? "");
  return TRANSIENT_CODES.has(code) || code.startsWith("08");
}
