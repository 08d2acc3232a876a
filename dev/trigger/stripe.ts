import postgres from "postgres";
import { FIXTURES, signStripePayload, stripeEvent } from "../stripe/fixtures.ts";

/** Options of `npm run trigger -- stripe <event-type>`. */
export interface StripeTriggerOptions {
  type: string;
  orderId?: string;
  amount?: number;
  refund?: number;
  functionsUrl: string;
  secret: string;
  databaseUrl: string;
}

const SETTLED = new Set(["delivered", "bounced", "complained", "failed", "dead", "suppressed", "canceled"]);

/**
 * Prints the emails the event made due for the order, following them for a few seconds
 * until the local wake-ups have sent them and the stand-in's webhook reported delivery.
 */
async function showOrderEmails(sql: postgres.Sql, orderId: string): Promise<void> {
  const read = () => sql`
    select template, recipient, status, attempts, provider_message_id, last_error
    from public.email_queue where data->>'order_id' = ${orderId} order by created_at`;
  let emails = await read();
  for (let i = 0; i < 50 && emails.some((email) => !SETTLED.has(email.status)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    emails = await read();
  }
  if (emails.length === 0) return;
  console.log("\nemails for this order (email_queue):");
  console.table(emails);
}

/** Prints the mirror's row for the event's object (stripe_* tables), when its type is mirrored. */
async function showMirroredRow(sql: postgres.Sql, object: Record<string, unknown>): Promise<void> {
  const [{ table }] = await sql<{ table: string | null }[]>`select public.stripe_mirror_table(${String(object.object)}) as table`;
  if (!table) return;
  const [row] = await sql.unsafe(`select * from public.${table} where id = $1`, [String(object.id)]);
  if (!row) return;
  const { object: _, ...columns } = row;
  console.log(`\nmirrored in ${table}:`);
  console.log(columns);
}

/**
 * The offline `stripe trigger`: builds a realistic sample event, signs it with the local
 * endpoint secret, posts it to stripe-webhook and prints the answer, then the order it touched.
 */
export async function triggerStripe(options: StripeTriggerOptions): Promise<boolean> {
  if (!FIXTURES[options.type]) {
    throw new Error(`Unknown event type ${options.type}. Known: ${Object.keys(FIXTURES).join(", ")}`);
  }
  const sql = postgres(options.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    // Reuse the order's stored Stripe ids, so refunds and disputes find it the way Stripe's would.
    const [order] = options.orderId
      ? await sql`select * from public.orders where id = ${options.orderId}`
      : [undefined];
    if (options.orderId && !order) throw new Error(`No order ${options.orderId} in the local database.`);
    const event = stripeEvent(options.type, {
      orderId: options.orderId,
      paymentIntentId: order?.stripe_payment_intent_id ?? undefined,
      checkoutSessionId: order?.stripe_checkout_session_id ?? undefined,
      amount: options.amount ?? (order ? Number(order.amount_total) : undefined),
      amountRefunded: options.refund,
      currency: order?.currency,
      email: order?.customer_email ?? undefined,
    });
    const payload = JSON.stringify(event);
    const url = `${options.functionsUrl}/functions/v1/stripe-webhook`;
    console.log(`POST ${url}\n  ${options.type} ${event.id as string}`);
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "stripe-signature": await signStripePayload(payload, options.secret),
      },
      body: payload,
    });
    console.log(`\n${response.status} ${response.statusText}`);
    console.log(JSON.stringify(await response.json(), null, 2));
    await showMirroredRow(sql, (event.data as { object: Record<string, unknown> }).object);
    if (options.orderId) {
      const [after] = await sql`
        select id, status, amount_total, amount_refunded, currency, customer_email,
               stripe_payment_intent_id, dispute_status, updated_at
        from public.orders where id = ${options.orderId}`;
      console.log(`\norder ${options.orderId} is now ${after.status}`);
      console.log(after);
      await showOrderEmails(sql, options.orderId);
    }
    return response.ok;
  } finally {
    await sql.end();
  }
}
