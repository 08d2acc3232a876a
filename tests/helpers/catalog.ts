import { randomUUID } from "node:crypto";
import type postgres from "postgres";

/** A table, view or foreign table of the project, as `schema.name` (quoted where needed). */
export interface Relation {
  name: string;
  /** pg_class.relkind: r table, p partitioned, v view, m materialized view, f foreign. */
  kind: string;
}

// Supabase's own schemas (and Postgres's): their tables are the platform's to secure, not ours.
const PLATFORM_SCHEMAS = [
  "information_schema", "auth", "storage", "extensions", "realtime", "_realtime", "graphql", "graphql_public",
  "vault", "pgsodium", "pgsodium_masks", "net", "cron", "supabase_functions", "supabase_migrations",
  "_analytics", "pgbouncer", "pgmq",
];

/**
 * Every relation in the project's schemas, found in the catalog so a new table is covered
 * without being listed: all schemas but Postgres's, Supabase's, extensions' objects and the
 * `test_*` schemas that test files create for their own triggers.
 */
export async function projectRelations(sql: postgres.Sql): Promise<Relation[]> {
  return await sql<Relation[]>`
    select format('%I.%I', n.nspname, c.relname) as name, c.relkind::text as kind
    from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'v', 'm', 'f')
      and n.nspname <> all (${PLATFORM_SCHEMAS}::text[])
      and n.nspname !~ '^(pg_|test_)'
      and not exists (select 1 from pg_catalog.pg_depend d where d.objid = c.oid and d.deptype = 'e')
    order by 1`;
}

const ROLLBACK = Symbol("rollback");

/** Runs `work` in a transaction (or, given one, a savepoint) that is always rolled back, and returns its result. */
export async function rolledBack<T>(
  sql: postgres.Sql | postgres.TransactionSql,
  work: (tx: postgres.TransactionSql) => Promise<T>,
): Promise<T> {
  let result: T;
  const run = async (tx: postgres.TransactionSql) => {
    result = await work(tx);
    throw ROLLBACK;
  };
  try {
    await ("savepoint" in sql ? sql.savepoint(run) : sql.begin(run));
  } catch (error) {
    if (error !== ROLLBACK) throw error;
  }
  return result!;
}

interface Column {
  name: string;
  type: string;
  category: string;
  required: boolean;
  firstLabel: string | null;
}

/**
 * Inserts one row into `table`: `values` as given (text cast to each column's type), every
 * other column that needs a value filled from its type, or from its CHECK's first allowed value
 * (`status in ('a', 'b')`). A CHECK with a pattern needs its value in `values`. Call it with
 * `session_replication_role = replica` set when foreign keys should not need parent rows.
 */
export async function seedRow(tx: postgres.TransactionSql, table: string, values: Record<string, string> = {}) {
  const columns = await tx<Column[]>`
    select a.attname as name, pg_catalog.format_type(a.atttypid, a.atttypmod) as type, t.typcategory as category,
           a.attnotnull and not a.atthasdef and a.attidentity = '' and a.attgenerated = '' as required,
           (select e.enumlabel from pg_catalog.pg_enum e where e.enumtypid = a.atttypid order by e.enumsortorder limit 1)
             as "firstLabel"
    from pg_catalog.pg_attribute a join pg_catalog.pg_type t on t.oid = a.atttypid
    where a.attrelid = ${table}::regclass and a.attnum > 0 and not a.attisdropped
    order by a.attnum`;
  const checks = await tx<{ def: string }[]>`
    select pg_catalog.pg_get_constraintdef(oid) as def from pg_catalog.pg_constraint
    where conrelid = ${table}::regclass and contype = 'c'`;
  const allowed = new Map<string, string>();
  for (const { def } of checks) {
    const match = /^CHECK \(\((\w+) = ANY \(ARRAY\['((?:[^']|'')*)'/.exec(def);
    if (match) allowed.set(match[1], match[2].replaceAll("''", "'"));
  }
  const row = columns
    .filter((c) => c.name in values || c.required)
    .map((c) => ({ ...c, value: values[c.name] ?? allowed.get(c.name) ?? generate(c) }));
  const list = row.map((c) => `"${c.name.replaceAll('"', '""')}"`).join(", ");
  const params = row.map((c, i) => `$${i + 1}::${c.type}`).join(", ");
  try {
    await tx.unsafe(
      row.length ? `insert into ${table} (${list}) values (${params})` : `insert into ${table} default values`,
      row.map((c) => c.value),
    );
  } catch (error) {
    throw new Error(`cannot seed a row in ${table} (${String(error)}): give the failing column a value`);
  }
}

let serial = 0;

function generate(column: Column): string {
  serial += 1;
  if (column.firstLabel !== null) return column.firstLabel;
  if (column.type === "uuid") return randomUUID();
  if (column.type === "date") return new Date(Date.UTC(1999, 0, serial)).toISOString().slice(0, 10);
  switch (column.category) {
    case "S": // lowercase, digits and _ pass the identifier-like CHECKs (keys, kinds, event names)
      return `rls_probe_${serial}`;
    case "N":
      return "1";
    case "B":
      return "false";
    case "D":
      return new Date().toISOString();
    case "T":
      return "1 minute";
    case "A":
      return "{}";
    case "I":
      return "192.0.2.1";
    case "U":
      if (column.type === "json" || column.type === "jsonb") return "{}";
  }
  throw new Error(`no generic value for ${column.name} (${column.type}): give it one`);
}
