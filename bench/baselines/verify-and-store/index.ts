// The fair baseline for `npm run bench -- stripe-webhook` (bench only, never deployed): what a
// careful hand-written Stripe webhook does. Verify `Stripe-Signature` with the official SDK, store
// the event with one autocommit `insert ... on conflict (id) do nothing`, and answer 200 only
// after the insert. Same SDK call, same secret, and the same `postgres` client settings as the
// functions (createSql: prepare false, the pool size from DB_POOL_MAX), served by real Deno.
import Stripe from "stripe";
import { createSql } from "../../../supabase/functions/_shared/db.ts";
import { jsonbFromText } from "../../../supabase/functions/_shared/sql-json.ts";

const secret = (Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "").split(",")[0];
const table = Deno.env.get("VERIFY_AND_STORE_TABLE") ?? "bench_verify_and_store";
const sql = createSql(Deno.env.get("SUPABASE_DB_URL") ?? "", {
  applicationName: "verify-and-store",
  max: Number(Deno.env.get("DB_POOL_MAX") ?? 10),
});
const cryptoProvider = Stripe.createSubtleCryptoProvider();
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

Deno.serve(async (req) => {
  if (req.method !== "POST") return json(405, { error: "method_not_allowed" });
  const rawBody = await req.text();
  let event: { id: string; type: string };
  try {
    event = await Stripe.webhooks.constructEventAsync(
      rawBody,
      req.headers.get("stripe-signature") ?? "",
      secret,
      300,
      cryptoProvider,
    ) as unknown as { id: string; type: string };
  } catch {
    return json(400, { error: "invalid_signature" });
  }
  try {
    await sql`insert into ${sql(table)} (id, type, payload)
      values (${event.id}, ${event.type}, ${jsonbFromText(sql, rawBody)}) on conflict (id) do nothing`;
  } catch (error) {
    return json(503, { error: "database", message: String(error) });
  }
  return json(200, { received: true });
});
