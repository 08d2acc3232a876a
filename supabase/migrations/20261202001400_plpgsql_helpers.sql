-- The small helpers stripe-webhook calls on every event, from LANGUAGE sql to plpgsql, with
-- the same bodies. A SQL function with `set search_path` (which the advisors require) is never
-- inlined, so Postgres set it up, parsed and planned it again at every call: measured with
-- `npm run bench -- stripe-profile`, these seven took 27% of the statement time of an event,
-- most of it planning (order_items_json: 0.22 ms of planning for 0.03 ms of work). plpgsql
-- keeps its plans for the session, as webhook_delivery_policy() already does.

create or replace function public.order_lifecycle() returns text[]
language plpgsql immutable
set search_path = ''
as $$
begin
  return array['pending', 'payment_failed', 'canceled', 'paid', 'fulfilled', 'partially_refunded', 'refunded', 'disputed'];
end;
$$;

create or replace function public.webhook_event_status(p_outcome text) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  return case
    when p_outcome = 'ignored' then 'ignored'
    when p_outcome = 'pending' then 'pending'
    when p_outcome like 'unmatched%' then 'unmatched'
    else 'processed'
  end;
end;
$$;

create or replace function public.stripe_mirror_table(p_object_type text) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  return case p_object_type
    when 'customer' then 'stripe_customers' when 'product' then 'stripe_products'
    when 'price' then 'stripe_prices' when 'subscription' then 'stripe_subscriptions'
    when 'invoice' then 'stripe_invoices' when 'charge' then 'stripe_charges'
    when 'refund' then 'stripe_refunds' when 'dispute' then 'stripe_disputes'
    when 'payment_intent' then 'stripe_payment_intents'
  end;
end;
$$;

create or replace function public.stripe_time(p_seconds jsonb) returns timestamptz
language plpgsql immutable
set search_path = ''
as $$
begin
  return case when jsonb_typeof(p_seconds) = 'number' then to_timestamp(p_seconds::text::double precision) end;
end;
$$;

create or replace function public.stripe_user_id(p_object jsonb) returns uuid
language plpgsql immutable
set search_path = ''
as $$
begin
  return case when p_object -> 'metadata' ->> 'user_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
              then (p_object -> 'metadata' ->> 'user_id')::uuid end;
end;
$$;

create or replace function public.order_items_json(p_order_id uuid) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return (
    select coalesce(jsonb_agg(jsonb_build_object(
      'product_id', i.product_id, 'name', i.name, 'sku', i.sku, 'quantity', i.quantity,
      'unit_price', i.unit_price, 'line_total', i.unit_price * i.quantity, 'currency', upper(i.currency),
      'image_url', i.image_url) order by i.position, i.created_at, i.id), '[]'::jsonb)
    from public.order_items i where i.order_id = p_order_id);
end;
$$;

create or replace function public.order_payload(p_order public.orders) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return to_jsonb(p_order) - 'status_event_id' - 'status_event_at'
    || jsonb_build_object('items', public.order_items_json(p_order.id));
end;
$$;

create or replace function public.order_email_data(p_order public.orders) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return jsonb_build_object(
    'order_id', p_order.id,
    'order_number', p_order.number,
    'ordered_at', p_order.created_at,
    'customer_name', p_order.customer_name,
    'customer_email', p_order.customer_email,
    'currency', upper(p_order.currency),
    'amount', to_char(p_order.amount_total / 100.0, 'FM999999990.00'),
    'amount_refunded', to_char(p_order.amount_refunded / 100.0, 'FM999999990.00'),
    'total', p_order.amount_total,
    'subtotal', p_order.amount_subtotal,
    'tax', p_order.amount_tax,
    'shipping', p_order.amount_shipping,
    'discount', nullif(p_order.amount_discount, 0),
    'refunded', p_order.amount_refunded,
    'refunded_in_full', p_order.amount_refunded >= p_order.amount_total,
    'shipping_address', p_order.shipping_address,
    'billing_address', p_order.billing_address,
    'retry_url', p_order.metadata ->> 'retry_url',
    'items', public.order_items_json(p_order.id));
end;
$$;
