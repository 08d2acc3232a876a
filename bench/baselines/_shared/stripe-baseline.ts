// What the bench's hand-written Stripe handlers share (bench only, never deployed): the official
// SDK's signature check, the functions' `postgres` settings (createSql: prepare false, the pool
// size from DB_POOL_MAX), and the answers a careful handler gives: 405, 400 for a bad
// signature, 503 when the database fails, 200 only after `store` has committed.
import Stripe from "stripe";
import { createSql } from "../../../supabase/functions/_shared/db.ts";

const secret = (Deno.env.get("STRIPE_WEBHOOK_SECRET") ?? "").split(",")[0];
const cryptoProvider = Stripe.createSubtleCryptoProvider();
const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** The client a baseline named `applicationName` stores with. */
export const baselineSql = (applicationName: string) =>
  createSql(Deno.env.get("SUPABASE_DB_URL") ?? "", {
    applicationName,
    max: Number(Deno.env.get("DB_POOL_MAX") ?? 10),
  });

/** Serves a Stripe webhook that verifies each request and then runs `store` with the event and the raw body. */
export function serveStripeBaseline<E>(store: (event: E, rawBody: string) => Promise<void>): void {
  Deno.serve(async (req) => {
    if (req.method !== "POST") return json(405, { error: "method_not_allowed" });
    const rawBody = await req.text();
    let event: E;
    try {
      event = await Stripe.webhooks.constructEventAsync(
        rawBody,
        req.headers.get("stripe-signature") ?? "",
        secret,
        300,
        cryptoProvider,
      ) as unknown as E;
    } catch {
      return json(400, { error: "invalid_signature" });
    }
    try {
      await store(event, rawBody);
    } catch (error) {
      return json(503, { error: "database", message: String(error) });
    }
    return json(200, { received: true });
  });
}
