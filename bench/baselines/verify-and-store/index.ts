// The fair baseline for `npm run bench -- stripe-webhook` (bench only, never deployed): what a
// careful hand-written Stripe webhook does. Verify `Stripe-Signature` with the official SDK, store
// the event with one autocommit `insert ... on conflict (id) do nothing`, and answer 200 only
// after the insert. Same SDK call, same secret, and the same `postgres` client settings as the
// functions (createSql: prepare false, the pool size from DB_POOL_MAX), served by real Deno.
import { jsonbFromText } from "../../../supabase/functions/_shared/sql-json.ts";
import { baselineSql, serveStripeBaseline } from "../_shared/stripe-baseline.ts";

const table = Deno.env.get("VERIFY_AND_STORE_TABLE") ?? "bench_verify_and_store";
const sql = baselineSql("verify-and-store");

serveStripeBaseline<{ id: string; type: string }>(async (event, rawBody) => {
  await sql`insert into ${sql(table)} (id, type, payload)
    values (${event.id}, ${event.type}, ${jsonbFromText(sql, rawBody)}) on conflict (id) do nothing`;
});
