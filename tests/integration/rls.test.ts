import { randomUUID } from "node:crypto";
import type postgres from "postgres";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRelations, type Relation, rolledBack, seedRow } from "../helpers/catalog.ts";
import { testSql } from "../helpers/stack.ts";

const sql = testSql();

type ApiRole = "anon" | "authenticated";
const API_ROLES: ApiRole[] = ["anon", "authenticated"];
const PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];

const me = randomUUID();
const someoneElse = randomUUID();
// Each user's order, so that an order's lines can be seeded under it.
const orderOf = new Map([[me, randomUUID()], [someoneElse, randomUUID()]]);

/**
 * A mirrored Stripe object owned (metadata.user_id) by `user`, as the seed of its row. The
 * object itself, not its JSON text: postgres.js serializes a jsonb parameter on its own.
 */
const stripeObject = (user: string, fields: Record<string, unknown> = {}) => ({
  object: { metadata: { user_id: user }, ...fields } as unknown as string,
});

/**
 * Access a feature grants on purpose; every other relation is closed to both API roles. A row
 * is seeded for `me` and for someone else (`seed` when the owner is not a plain column), and
 * only the row whose `owner` column holds `mine` (default: my id) may come back.
 */
const FEATURE_ACCESS: Record<string, {
  role: ApiRole;
  privileges: string[];
  owner: string;
  reason: string;
  seed?: (user: string) => Record<string, string>;
  mine?: string;
}> = {
  "public.orders": {
    role: "authenticated",
    privileges: ["SELECT"],
    owner: "user_id",
    reason: "signed-in users read their own orders (policy: user_id = auth.uid())",
    seed: (user) => ({ id: orderOf.get(user)!, user_id: user }),
  },
  "public.order_items": {
    role: "authenticated",
    privileges: ["SELECT"],
    owner: "order_id",
    mine: orderOf.get(me),
    reason: "signed-in users read the lines of their own orders (the order's policy)",
    seed: (user) => ({ order_id: orderOf.get(user)!, currency: "usd" }),
  },
  "public.subscriptions": {
    role: "authenticated",
    privileges: ["SELECT"],
    owner: "user_id",
    reason: "signed-in users read their own subscriptions (policy: user_id = auth.uid())",
  },
  "public.stripe_customers": {
    role: "authenticated",
    privileges: ["SELECT"],
    owner: "user_id",
    reason: "signed-in users read their own Stripe customer (metadata.user_id)",
    seed: (user) => ({ id: `cus_rls_${user}`, ...stripeObject(user) }),
  },
  "public.stripe_subscriptions": {
    role: "authenticated",
    privileges: ["SELECT"],
    owner: "user_id",
    reason: "signed-in users read their own Stripe subscriptions (metadata.user_id)",
    seed: (user) => stripeObject(user),
  },
  "public.stripe_invoices": {
    role: "authenticated",
    privileges: ["SELECT"],
    owner: "customer",
    mine: `cus_rls_${me}`,
    reason: "signed-in users read the invoices of their own Stripe customer",
    seed: (user) => stripeObject(user, { customer: `cus_rls_${user}` }),
  },
};

/** Single-row tables their migration fills: the row is there already, and a second cannot be. */
const SINGLETONS = new Set(["public.email_brand"]);

/** Values the generic row cannot guess: columns whose CHECK is a pattern. */
const SEED_VALUES: Record<string, Record<string, string>> = {
  "public.email_queue": { recipient: "rls-probe@example.com" },
  "public.webhook_endpoints": { secret: `whsec_${"A".repeat(32)}` },
  "public.outbound_events": { type: "rls.probe" },
  "public.ops_retention": { days: "30" },
  "public.ops_thresholds": { applies_to: "component", direction: "max", severity: "INFO" },
  "public.ops_alerts": { severity: "INFO", status: "open" },
};

/** What `role` (as a random signed-in user when authenticated) gets from a relation: rows, or denied. */
interface Probe {
  relation: string;
  role: ApiRole;
  read: "denied" | Record<string, unknown>[];
  updated: "denied" | number;
  deleted: "denied" | number;
}

async function as<T>(tx: postgres.TransactionSql, role: ApiRole, query: string): Promise<"denied" | T> {
  return await rolledBack(tx, async (sp) => {
    if (role === "authenticated") {
      await sp`select set_config('request.jwt.claims', ${JSON.stringify({ sub: me, role })}, true)`;
    }
    await sp.unsafe(`set local role ${role}`);
    try {
      return (await sp.unsafe(query)) as unknown as T;
    } catch (error) {
      // 42501: insufficient_privilege (no grant on the table or no usage on its schema).
      if ((error as { code?: string }).code === "42501") return "denied";
      throw error;
    }
  });
}

let relations: Relation[];
let probes: Probe[];
let seeded: Map<string, number>;

// One transaction, rolled back: a row in every table (two where a feature grants access: mine
// and someone else's), then every relation read, updated and deleted as each API role. Foreign
// keys and triggers are off (replica mode) so that a row needs no parents and wakes nothing.
beforeAll(async () => {
  relations = await projectRelations(sql);
  ({ probes, seeded } = await rolledBack(sql, async (tx) => {
    await tx`set local session_replication_role = replica`;
    const tables = relations.filter((r) => r.kind === "r" || r.kind === "p");
    for (const { name } of tables.filter((t) => !SINGLETONS.has(t.name))) {
      const access = FEATURE_ACCESS[name];
      const owned = (user: string) => access?.seed?.(user) ?? (access ? { [access.owner]: user } : {});
      await seedRow(tx, name, { ...SEED_VALUES[name], ...owned(someoneElse) });
      if (access) await seedRow(tx, name, { ...SEED_VALUES[name], ...owned(me) });
    }
    const counts = new Map<string, number>();
    for (const { name } of tables) counts.set(name, (await tx.unsafe(`select count(*)::int as n from ${name}`))[0].n);
    const found: Probe[] = [];
    for (const { name, kind } of relations) {
      const updatable = kind !== "v" && kind !== "m";
      const [{ col }] = await tx`select quote_ident(attname) as col from pg_attribute
        where attrelid = ${name}::regclass and attnum > 0 and not attisdropped and attidentity = '' and attgenerated = ''
        order by attnum limit 1`;
      for (const role of API_ROLES) {
        const count = async (query: string) => {
          const result = await as<postgres.RowList<[]>>(tx, role, query);
          return result === "denied" ? result : result.count;
        };
        found.push({
          relation: name,
          role,
          read: await as<Record<string, unknown>[]>(tx, role, `select * from ${name}`),
          updated: updatable ? await count(`update ${name} set ${col} = ${col}`) : 0,
          deleted: updatable ? await count(`delete from ${name}`) : 0,
        });
      }
    }
    return { probes: found, seeded: counts };
  }));
});

describe("row-level security for the API roles", () => {
  it("finds the contract's tables in the catalog and seeds a row in each", () => {
    const names = relations.map((r) => r.name);
    for (const table of ["public.webhook_events", "public.orders", "public.email_queue", "public.webhook_deliveries"]) {
      expect(names).toContain(table);
    }
    // Other files' rows may be there too; what matters is that no table is empty.
    const empty = [...seeded].filter(([table, rows]) => rows < (FEATURE_ACCESS[table] ? 2 : 1));
    expect(empty).toEqual([]);
  });

  it("grants anon and authenticated no privilege on any relation, except what a feature needs", async () => {
    const granted = [];
    for (const { name } of relations) {
      const rows = await sql`
        select r.role, p.privilege from unnest(${API_ROLES}::text[]) r(role), unnest(${PRIVILEGES}::text[]) p(privilege)
        where has_table_privilege(r.role, ${name}::regclass, p.privilege)
           or (p.privilege in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
               and has_any_column_privilege(r.role, ${name}::regclass, p.privilege))`;
      for (const { role, privilege } of rows) granted.push(`${name}: ${privilege} to ${role}`);
    }
    const intended = Object.entries(FEATURE_ACCESS).flatMap(([name, access]) =>
      access.privileges.map((privilege) => `${name}: ${privilege} to ${access.role}`)
    );
    expect(granted.sort()).toEqual(intended.sort());
  });

  it.each(API_ROLES)("shows %s no row of a relation no feature opens to it, and lets it change none", (role) => {
    const leaks = probes.filter((p) => p.role === role).map(({ relation, read, updated, deleted }) => ({
      relation,
      read: read === "denied" || FEATURE_ACCESS[relation]?.role === role ? 0 : read.length,
      updated: updated === "denied" ? 0 : updated,
      deleted: deleted === "denied" ? 0 : deleted,
    })).filter((p) => p.read + p.updated + p.deleted > 0);
    expect(leaks).toEqual([]);
  });

  it.each(Object.entries(FEATURE_ACCESS))("%s: a signed-in user reads their own row, never someone else's", (name, access) => {
    const probe = probes.find((p) => p.relation === name && p.role === access.role);
    expect(probe, `${name} (${access.reason}) is no longer in the catalog`).toBeDefined();
    expect(probe!.read === "denied" ? "denied" : probe!.read.map((row) => row[access.owner])).toEqual([access.mine ?? me]);
  });
});
