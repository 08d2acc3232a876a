import { SignJWT } from "jose";
import postgres from "postgres";
import { afterAll, inject } from "vitest";
import { signStripePayload } from "../../dev/stripe/fixtures.ts";

/** The running test stack (see global-setup.ts). */
export const stack = inject("stack");

/** The current and the previous Stripe endpoint secret the test stack accepts. */
export const [stripeSecret, previousStripeSecret] = stack.STRIPE_WEBHOOK_SECRET.split(",");

/** URL of a function behind the gateway. */
export const functionUrl = (name: string) => `${stack.SUPABASE_URL}/functions/v1/${name}`;

/** A JWT signed with the stack's project secret, valid for an hour: a user's session token or an admin's. */
export function signJwt(claims: Record<string, unknown>) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode(stack.SUPABASE_JWT_SECRET));
}

/** A SQL client on the test database, closed after the file's tests. */
export function testSql() {
  const sql = postgres(stack.DATABASE_URL, { max: 4, onnotice: () => {} });
  afterAll(() => sql.end());
  return sql;
}

/** Options of {@link postStripe}. */
export interface PostStripeOptions {
  secret?: string;
  timestamp?: number;
  headers?: Record<string, string>;
  url?: string;
}

/** Posts `event` to stripe-webhook, signed like Stripe (unless headers override it). */
export async function postStripe(event: unknown, options: PostStripeOptions = {}) {
  const payload = typeof event === "string" ? event : JSON.stringify(event);
  const signature = await signStripePayload(payload, options.secret ?? stripeSecret, options.timestamp);
  const response = await fetch(options.url ?? functionUrl("stripe-webhook"), {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature, ...options.headers },
    body: payload,
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Inserts a pending order and returns its id. */
export async function createOrder(sql: postgres.Sql, amount = 5000, currency = "usd"): Promise<string> {
  const [row] = await sql`
    insert into public.orders (amount_total, currency, customer_email)
    values (${amount}, ${currency}, 'buyer@example.com') returning id`;
  return row.id as string;
}
