-- Inbound provider events and their effects on orders and subscriptions. One call of
-- apply_stripe_event records an event and applies its effect in the same transaction, so an
-- event is either recorded with its effect or not at all, and a redelivery never applies it
-- twice. It is one round trip that writes the event row once and the order row once: a first
-- version that inserted the event, then updated its status, updated the order twice and wrapped
-- the effect in an EXCEPTION block ran at 0.37 of a bare INSERT's rate (1,861 vs 4,955/s at
-- concurrency 16); this shape removes the extra row versions and the subtransaction.

-- ---------------------------------------------------------------------------------------
-- webhook_events
-- ---------------------------------------------------------------------------------------
create table public.webhook_events (
  id bigint generated always as identity primary key,
  provider text not null,
  event_id text not null,
  event_type text not null,
  api_version text,
  livemode boolean,
  event_created_at timestamptz,
  payload jsonb not null,
  -- processed: effect applied · ignored: type not handled · unmatched: no order or
  -- subscription to apply it to, kept for replay · failed: effect raised, retried on redelivery
  status text not null check (status in ('processed', 'ignored', 'unmatched', 'failed')),
  outcome text,
  error text,
  attempts integer not null default 1,
  request_id text,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  unique (provider, event_id)
);

comment on table public.webhook_events is
  'Every inbound provider event, exactly once per (provider, event_id), with what it did.';

-- Operators look for what needs attention: failed and unmatched events, newest first.
create index webhook_events_attention on public.webhook_events (provider, status, received_at desc)
  where status in ('failed', 'unmatched');

alter table public.webhook_events enable row level security;
revoke all on public.webhook_events from anon, authenticated;
create policy "no api access" on public.webhook_events for all to anon, authenticated using (false) with check (false);

-- ---------------------------------------------------------------------------------------
-- orders
-- ---------------------------------------------------------------------------------------
-- The order lifecycle, defined here once: the statuses an order can have, in the order it
-- moves through them (a status's rank is its position). orders.status accepts exactly these,
-- apply_order_effect ranks by them, and a test holds the TypeScript OrderStatus to them.
-- Immutable and without arguments, so the planner folds each call into a constant: the check
-- and apply_order_effect read a literal array, at no cost per row or per event.
-- The helpers an event calls are plpgsql, not SQL: a SQL function with `set search_path` (as
-- the advisors require) is never inlined, so Postgres planned it again at every call. Measured
-- with `npm run bench -- stripe-profile`, seven such helpers took 27% of a payment's statement
-- time; as plpgsql, which keeps its plans for the session, stripe-webhook went from 325 to 441
-- events/s at concurrency 16.
create function public.order_lifecycle() returns text[]
language plpgsql immutable
set search_path = ''
as $$
begin
  return array['pending', 'payment_failed', 'canceled', 'paid', 'fulfilled', 'partially_refunded', 'refunded', 'disputed'];
end;
$$;

create table public.orders (
  id uuid primary key default gen_random_uuid(),
  status text not null default 'pending' check (status = any (public.order_lifecycle())),
  amount_total bigint not null default 0 check (amount_total >= 0),
  currency text not null default 'usd' check (currency ~ '^[a-z]{3}$'),
  customer_email text,
  user_id uuid,
  amount_refunded bigint not null default 0 check (amount_refunded >= 0),
  dispute_status text,
  stripe_checkout_session_id text unique,
  stripe_payment_intent_id text unique,
  stripe_customer_id text,
  -- Position of the event that set the status: (created, status rank, event id). A later
  -- event applies only from a greater position, so order of arrival never matters.
  status_event_at timestamptz,
  status_event_id text,
  metadata jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index orders_user_id on public.orders (user_id) where user_id is not null;

alter table public.orders enable row level security;
revoke all on public.orders from anon, authenticated;
grant select on public.orders to authenticated;

create policy "signed-in users read their own orders" on public.orders
  for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------
-- subscriptions
-- ---------------------------------------------------------------------------------------
create table public.subscriptions (
  id uuid primary key default gen_random_uuid(),
  stripe_subscription_id text not null unique,
  stripe_customer_id text,
  user_id uuid,
  status text not null,
  price_id text,
  quantity integer,
  current_period_end timestamptz,
  cancel_at_period_end boolean not null default false,
  canceled_at timestamptz,
  latest_invoice_id text,
  latest_invoice_status text,
  latest_invoice_event_at timestamptz,
  latest_invoice_event_id text,
  metadata jsonb not null default '{}'::jsonb,
  last_event_at timestamptz,
  last_event_rank integer,
  last_event_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index subscriptions_user_id on public.subscriptions (user_id) where user_id is not null;

alter table public.subscriptions enable row level security;
revoke all on public.subscriptions from anon, authenticated;
grant select on public.subscriptions to authenticated;

create policy "signed-in users read their own subscriptions" on public.subscriptions
  for select to authenticated
  using (user_id = (select auth.uid()));

-- ---------------------------------------------------------------------------------------
-- Effects
-- ---------------------------------------------------------------------------------------

-- p_effect: {"link": {"order_id", "checkout_session_id", "payment_intent_id"},
--            "set": {stripe ids, customer_email, amount_refunded},
--            "status": "...", "dispute_status": "...", "resolves_dispute": bool}
-- (its zod schema: effectSchema in stripe-webhook/plan-effect.ts). The order is found by the
-- most specific link first and locked, then written once. A status only moves forward in
-- order_lifecycle(); the one way back is a dispute that closes in the merchant's favour. The
-- ranking is read into a local array once per call: ranking each status through a SQL helper,
-- which PL/pgSQL cannot inline, set up an executor per call and cost four calls per event on
-- the hot path.
create function public.apply_order_effect(p_effect jsonb, p_at timestamptz, p_event_id text)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v_link jsonb := coalesce(p_effect -> 'link', '{}'::jsonb);
  v_set jsonb := coalesce(p_effect -> 'set', '{}'::jsonb);
  v_order public.orders;
  v_status text := p_effect ->> 'status';
  v_resolves boolean := coalesce((p_effect ->> 'resolves_dispute')::boolean, false);
  v_refunded bigint;
  v_apply boolean;
  c_lifecycle constant text[] := public.order_lifecycle();
begin
  if v_link ? 'order_id' then
    select * into v_order from public.orders where id = (v_link ->> 'order_id')::uuid for update;
  end if;
  if v_order.id is null and v_link ? 'checkout_session_id' then
    select * into v_order from public.orders
    where stripe_checkout_session_id = v_link ->> 'checkout_session_id' for update;
  end if;
  if v_order.id is null and v_link ? 'payment_intent_id' then
    select * into v_order from public.orders
    where stripe_payment_intent_id = v_link ->> 'payment_intent_id' for update;
  end if;
  if v_order.id is null then
    return 'unmatched_order';
  end if;

  v_refunded := greatest(v_order.amount_refunded, coalesce((v_set ->> 'amount_refunded')::bigint, 0));
  -- A won dispute returns the order to what its refunds say it is.
  if v_resolves then
    v_status := case
      when v_refunded = 0 then 'paid'
      when v_refunded >= v_order.amount_total then 'refunded'
      else 'partially_refunded'
    end;
  end if;
  v_apply := v_status is not null
    and (p_at, array_position(c_lifecycle, v_status), p_event_id)
        > (coalesce(v_order.status_event_at, '-infinity'::timestamptz), array_position(c_lifecycle, v_order.status),
           coalesce(v_order.status_event_id, ''))
    and (array_position(c_lifecycle, v_status) >= array_position(c_lifecycle, v_order.status)
         or (v_resolves and v_order.status = 'disputed'));

  update public.orders o set
    stripe_checkout_session_id = coalesce(o.stripe_checkout_session_id, v_set ->> 'stripe_checkout_session_id'),
    stripe_payment_intent_id = coalesce(o.stripe_payment_intent_id, v_set ->> 'stripe_payment_intent_id'),
    stripe_customer_id = coalesce(o.stripe_customer_id, v_set ->> 'stripe_customer_id'),
    customer_email = coalesce(o.customer_email, v_set ->> 'customer_email'),
    amount_refunded = v_refunded,
    status = case when v_apply then v_status else o.status end,
    dispute_status = case when v_apply then coalesce(p_effect ->> 'dispute_status', o.dispute_status)
                          else o.dispute_status end,
    status_event_at = case when v_apply then p_at else o.status_event_at end,
    status_event_id = case when v_apply then p_event_id else o.status_event_id end,
    updated_at = now()
  where o.id = v_order.id;

  return case
    when v_status is null then 'order_linked'
    when v_apply then 'order_status:' || v_status
    else 'order_status_kept:' || v_order.status
  end;
end;
$$;

-- Same-second subscription events tie-break by lifecycle (created < updated < deleted),
-- then by event id, so every replica of the stream converges on the same row.
create function public.apply_subscription_effect(p_effect jsonb, p_at timestamptz, p_event_id text)
returns text
language plpgsql
set search_path = ''
as $$
declare
  v jsonb := p_effect -> 'subscription';
  v_rank integer := coalesce((p_effect ->> 'rank')::integer, 1);
begin
  insert into public.subscriptions as s (
    stripe_subscription_id, stripe_customer_id, user_id, status, price_id, quantity,
    current_period_end, cancel_at_period_end, canceled_at, metadata,
    last_event_at, last_event_rank, last_event_id)
  values (
    v ->> 'stripe_subscription_id', v ->> 'stripe_customer_id', (v ->> 'user_id')::uuid,
    v ->> 'status', v ->> 'price_id', (v ->> 'quantity')::integer,
    to_timestamp((v ->> 'current_period_end')::bigint),
    coalesce((v ->> 'cancel_at_period_end')::boolean, false),
    to_timestamp((v ->> 'canceled_at')::bigint),
    coalesce(v -> 'metadata', '{}'::jsonb),
    p_at, v_rank, p_event_id)
  on conflict (stripe_subscription_id) do update set
    stripe_customer_id = excluded.stripe_customer_id,
    user_id = coalesce(excluded.user_id, s.user_id),
    status = excluded.status,
    price_id = excluded.price_id,
    quantity = excluded.quantity,
    current_period_end = excluded.current_period_end,
    cancel_at_period_end = excluded.cancel_at_period_end,
    canceled_at = excluded.canceled_at,
    metadata = excluded.metadata,
    last_event_at = excluded.last_event_at,
    last_event_rank = excluded.last_event_rank,
    last_event_id = excluded.last_event_id,
    updated_at = now()
  where (excluded.last_event_at, excluded.last_event_rank, excluded.last_event_id)
      > (coalesce(s.last_event_at, '-infinity'::timestamptz), coalesce(s.last_event_rank, -1),
         coalesce(s.last_event_id, ''));

  if not found then
    return 'subscription_kept';
  end if;
  return 'subscription:' || (v ->> 'status');
end;
$$;

create function public.apply_invoice_effect(p_effect jsonb, p_at timestamptz, p_event_id text)
returns text
language plpgsql
set search_path = ''
as $$
begin
  if not exists (
    select 1 from public.subscriptions where stripe_subscription_id = p_effect ->> 'subscription_id'
  ) then
    return 'unmatched_subscription';
  end if;

  update public.subscriptions s set
    latest_invoice_id = p_effect ->> 'invoice_id',
    latest_invoice_status = p_effect ->> 'invoice_status',
    latest_invoice_event_at = p_at,
    latest_invoice_event_id = p_event_id,
    updated_at = now()
  where s.stripe_subscription_id = p_effect ->> 'subscription_id'
    and (p_at, p_event_id) > (coalesce(s.latest_invoice_event_at, '-infinity'::timestamptz),
                              coalesce(s.latest_invoice_event_id, ''));

  if not found then
    return 'invoice_kept';
  end if;
  return 'invoice:' || (p_effect ->> 'invoice_status');
end;
$$;

-- The bookkeeping every inbound webhook function shares, around its provider-specific effect.
-- begin_webhook_event serializes copies of one event on a transaction-scoped advisory lock
-- keyed by its id, so a second copy waits for the first to commit, then sees it: it returns
-- the stored row when the event was already settled (a duplicate), and no row when the caller
-- should apply it (new, or failed before).
create function public.begin_webhook_event(p_provider text, p_event_id text)
returns table (status text, outcome text, error text)
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_provider || ':' || p_event_id, 0));
  return query
    select e.status, e.outcome, e.error from public.webhook_events e
    where e.provider = p_provider and e.event_id = p_event_id and e.status <> 'failed';
end;
$$;

-- Stores the event once, with what its effect did, and returns its status: 'ignored' and
-- 'unmatched…' outcomes keep their name, everything else was processed.
create function public.finish_webhook_event(
  p_provider text,
  p_event_id text,
  p_event_type text,
  p_created_at timestamptz,
  p_payload jsonb,
  p_outcome text,
  p_request_id text,
  p_api_version text default null,
  p_livemode boolean default null
) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_status text := case
    when p_outcome = 'ignored' then 'ignored'
    when p_outcome like 'unmatched%' then 'unmatched'
    else 'processed'
  end;
begin
  insert into public.webhook_events as e (
    provider, event_id, event_type, api_version, livemode, event_created_at, payload,
    status, outcome, request_id, processed_at)
  values (p_provider, p_event_id, p_event_type, p_api_version, p_livemode, p_created_at, p_payload,
          v_status, p_outcome, p_request_id, now())
  on conflict (provider, event_id) do update set
    status = excluded.status,
    outcome = excluded.outcome,
    error = null,
    attempts = e.attempts + 1,
    request_id = excluded.request_id,
    processed_at = excluded.processed_at;
  return v_status;
end;
$$;

-- Records the event and applies p_effect (planned by the function from the verified event)
-- in one transaction. Copies of one event serialize on a transaction-scoped advisory lock
-- keyed by its id, so the second copy waits for the first to commit and then sees it as a
-- duplicate. A redelivery of a processed, ignored or unmatched event is a duplicate; a failed
-- one is applied again. If the effect raises, the whole call rolls back and the function
-- records the failure with record_webhook_event_failure in a transaction of its own.
create function public.apply_stripe_event(
  p_event_id text,
  p_event_type text,
  p_created bigint,
  p_livemode boolean,
  p_api_version text,
  p_payload jsonb,
  p_effect jsonb,
  p_request_id text
) returns table (status text, outcome text, duplicate boolean, error text)
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz := to_timestamp(p_created);
  v_seen record;
  v_outcome text;
begin
  select * into v_seen from public.begin_webhook_event('stripe', p_event_id);
  if found then
    return query select v_seen.status, v_seen.outcome, true, v_seen.error;
    return;
  end if;

  v_outcome := case p_effect ->> 'kind'
    when 'order' then public.apply_order_effect(p_effect, v_at, p_event_id)
    when 'subscription' then public.apply_subscription_effect(p_effect, v_at, p_event_id)
    when 'invoice' then public.apply_invoice_effect(p_effect, v_at, p_event_id)
    else 'ignored'
  end;
  return query select
    public.finish_webhook_event('stripe', p_event_id, p_event_type, v_at, p_payload, v_outcome, p_request_id,
                                p_api_version, p_livemode),
    v_outcome, false, null::text;
end;
$$;

-- Keeps a failed event (and why) so an operator sees it and the provider's redelivery
-- retries it; used by every inbound webhook function. Never overwrites an event that another
-- delivery has meanwhile processed.
create function public.record_webhook_event_failure(
  p_provider text,
  p_event_id text,
  p_event_type text,
  p_created_at timestamptz,
  p_payload jsonb,
  p_error text,
  p_request_id text,
  p_api_version text default null,
  p_livemode boolean default null
) returns void
language sql
set search_path = ''
as $$
  insert into public.webhook_events as e (
    provider, event_id, event_type, api_version, livemode, event_created_at, payload,
    status, error, request_id)
  values (p_provider, p_event_id, p_event_type, p_api_version, p_livemode, p_created_at, p_payload,
          'failed', p_error, p_request_id)
  on conflict (provider, event_id) do update set
    error = excluded.error,
    attempts = e.attempts + 1,
    request_id = excluded.request_id
  where e.status = 'failed';
$$;

revoke execute on function public.order_lifecycle(),
  public.apply_order_effect(jsonb, timestamptz, text),
  public.apply_subscription_effect(jsonb, timestamptz, text),
  public.apply_invoice_effect(jsonb, timestamptz, text),
  public.begin_webhook_event(text, text),
  public.finish_webhook_event(text, text, text, timestamptz, jsonb, text, text, text, boolean),
  public.apply_stripe_event(text, text, bigint, boolean, text, jsonb, jsonb, text),
  public.record_webhook_event_failure(text, text, text, timestamptz, jsonb, text, text, text, boolean)
  from public, anon, authenticated;
