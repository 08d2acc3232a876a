// The "by hand" baseline for `npm run bench -- stripe-webhook` (bench only, never deployed):
// stripe-webhook's work, as a careful hand-written Stripe webhook for this schema would do it.
// Same verification as verify-and-store (the SDK's constructEventAsync, the same secret, the
// same `postgres` settings through createSql), then one transaction (`sql.begin`) of direct
// statements, each its own round trip, no plpgsql of its own:
//   1. insert the event into webhook_events as pending, `on conflict do nothing` (a duplicate
//      answers 200 and stops);
//   2. payment_intent.succeeded: mark the order of `metadata.order_id` paid, never backwards
//      (the schema's orders_enqueue_emails trigger fires on that status change and queues the
//      order confirmation through enqueue_email, as it would for any code that updates an
//      order, so there is no explicit email_queue insert: it could only hit `on conflict do
//      nothing`), then upsert the mirrored payment intent;
//   3. customer.subscription.*: upsert public.subscriptions and the mirrored stripe_subscriptions
//      row, each behind the same position guard, and replace the mirrored items when it applied;
//   4. mark the event processed.
// The same rows per table as stripe-webhook writes for the bench's events (checked once by
// querying after a small load); unlike it, a redelivery writes nothing (no duplicate count).
import type postgres from "postgres";
import { jsonb, jsonbFromText } from "../../../supabase/functions/_shared/sql-json.ts";
import { baselineSql, serveStripeBaseline } from "../_shared/stripe-baseline.ts";

const sql = baselineSql("by-hand");

// deno-lint-ignore no-explicit-any
type StripeObject = Record<string, any>;
interface Event {
  id: string;
  type: string;
  created: number;
  livemode: boolean;
  api_version: string | null;
  data: { object: StripeObject };
}

/** A transaction, typed as the shared helpers take it (TransactionSql is an Sql without begin/end). */
type Tx = postgres.Sql;

const UUID = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const rankOf = (type: string) => type.endsWith(".created") ? 0 : type.endsWith(".deleted") ? 2 : 1;

async function paymentSucceeded(tx: Tx, event: Event): Promise<string> {
  const intent = event.data.object;
  const orderId = intent.metadata?.order_id;
  let outcome = "unmatched_order";
  if (typeof orderId === "string" && UUID.test(orderId)) {
    const paid = await tx`
      update public.orders set
        status = 'paid',
        stripe_payment_intent_id = coalesce(stripe_payment_intent_id, ${intent.id}),
        stripe_customer_id = coalesce(stripe_customer_id, ${intent.customer ?? null}),
        customer_email = coalesce(customer_email, ${intent.receipt_email ?? null}),
        status_event_at = to_timestamp(${event.created}), status_event_id = ${event.id}, updated_at = now()
      where id = ${orderId} and status in ('pending', 'payment_failed', 'canceled')`;
    outcome = paid.count > 0 ? "order_status:paid" : "order_status_kept";
  }
  await tx`
    insert into public.stripe_payment_intents as t
      (id, object, deleted, last_event_id, last_event_created, last_event_rank, synced_at)
    values (${intent.id}, ${jsonb(tx, intent)}, false, ${event.id}, ${event.created}, ${rankOf(event.type)}, now())
    on conflict (id) do update set
      object = excluded.object, deleted = excluded.deleted, last_event_id = excluded.last_event_id,
      last_event_created = excluded.last_event_created, last_event_rank = excluded.last_event_rank, synced_at = now()
    where (t.last_event_created, t.last_event_rank, t.last_event_id)
        < (excluded.last_event_created, excluded.last_event_rank, excluded.last_event_id)`;
  return outcome;
}

async function subscriptionChanged(tx: Tx, event: Event): Promise<string> {
  const sub = event.data.object;
  const item = sub.items?.data?.[0];
  const userId = UUID.test(sub.metadata?.user_id ?? "") ? sub.metadata.user_id : null;
  const periodEnd = sub.current_period_end ?? item?.current_period_end ?? null;
  const rank = rankOf(event.type);
  const kept = await tx`
    insert into public.subscriptions as s (
      stripe_subscription_id, stripe_customer_id, user_id, status, price_id, quantity, current_period_end,
      cancel_at_period_end, canceled_at, metadata, last_event_at, last_event_rank, last_event_id)
    values (
      ${sub.id}, ${sub.customer ?? null}, ${userId}, ${sub.status}, ${item?.price?.id ?? null}, ${item?.quantity ?? null},
      to_timestamp(${periodEnd}), ${sub.cancel_at_period_end ?? false}, to_timestamp(${sub.canceled_at ?? null}),
      ${jsonb(tx, sub.metadata ?? {})}, to_timestamp(${event.created}), ${rank}, ${event.id})
    on conflict (stripe_subscription_id) do update set
      stripe_customer_id = excluded.stripe_customer_id, user_id = coalesce(excluded.user_id, s.user_id),
      status = excluded.status, price_id = excluded.price_id, quantity = excluded.quantity,
      current_period_end = excluded.current_period_end, cancel_at_period_end = excluded.cancel_at_period_end,
      canceled_at = excluded.canceled_at, metadata = excluded.metadata, last_event_at = excluded.last_event_at,
      last_event_rank = excluded.last_event_rank, last_event_id = excluded.last_event_id, updated_at = now()
    where (excluded.last_event_at, excluded.last_event_rank, excluded.last_event_id)
        > (coalesce(s.last_event_at, '-infinity'::timestamptz), coalesce(s.last_event_rank, -1), coalesce(s.last_event_id, ''))`;
  const mirrored = await tx`
    insert into public.stripe_subscriptions as t
      (id, object, deleted, last_event_id, last_event_created, last_event_rank, synced_at)
    values (${sub.id}, ${jsonb(tx, sub)}, ${rank === 2}, ${event.id}, ${event.created}, ${rank}, now())
    on conflict (id) do update set
      object = excluded.object, deleted = excluded.deleted, last_event_id = excluded.last_event_id,
      last_event_created = excluded.last_event_created, last_event_rank = excluded.last_event_rank, synced_at = now()
    where (t.last_event_created, t.last_event_rank, t.last_event_id)
        < (excluded.last_event_created, excluded.last_event_rank, excluded.last_event_id)`;
  if (mirrored.count > 0) {
    await tx`delete from public.stripe_subscription_items where subscription = ${sub.id}`;
    const items = (sub.items?.data ?? []).filter((i: StripeObject) => typeof i.id === "string");
    if (items.length > 0) {
      await tx`
        insert into public.stripe_subscription_items (id, subscription, object)
        select item ->> 'id', ${sub.id}, item from jsonb_array_elements(${jsonb(tx, items)}) item`;
    }
  }
  return kept.count > 0 ? `subscription:${sub.status}` : "subscription_kept";
}

serveStripeBaseline<Event>(async (event, rawBody) => {
  await sql.begin(async (transaction) => {
    const tx = transaction as unknown as Tx;
    const [row] = await tx`
      insert into public.webhook_events
        (provider, event_id, event_type, api_version, livemode, event_created_at, payload, status, request_id)
      values ('stripe', ${event.id}, ${event.type}, ${event.api_version ?? null}, ${event.livemode},
              to_timestamp(${event.created}), ${jsonbFromText(tx, rawBody)}, 'pending', ${crypto.randomUUID()})
      on conflict (provider, event_id) do nothing
      returning id`;
    if (!row) return; // a redelivery: already stored (and processed) by the transaction that inserted it
    let outcome = "ignored";
    if (event.type === "payment_intent.succeeded") outcome = await paymentSucceeded(tx, event);
    else if (event.type.startsWith("customer.subscription.")) outcome = await subscriptionChanged(tx, event);
    const status = outcome === "ignored" ? "ignored" : outcome.startsWith("unmatched") ? "unmatched" : "processed";
    await tx`
      update public.webhook_events set status = ${status}, outcome = ${outcome}, processed_at = now()
      where id = ${row.id}`;
  });
});
