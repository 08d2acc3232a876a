-- What a shop's emails and partners need to know about an order: its lines, a human number,
-- the customer's name and addresses, and the parts of its total. Emails read them through
-- order_email_data(), partners' order events through order_payload(); both in the same
-- transaction as the change, as before. Emails also gain one brand row and one layout, which
-- every template is shown in (see email-service and _shared/email/render.ts).
--
-- It redefines three functions of earlier migrations (the email and event triggers and
-- apply_order_effect) rather than folding the change into them: a local database that has
-- run those migrations would otherwise keep the old definitions without a word.

-- ---------------------------------------------------------------------------------------
-- Orders and their lines
-- ---------------------------------------------------------------------------------------
alter table public.orders
  -- A number a customer can read out on the phone (ORD-2026-000123); next_order_number() makes one.
  add column number text unique check (number ~ '^[A-Z0-9][A-Z0-9-]{0,63}$'),
  add column customer_name text check (length(customer_name) between 1 and 200),
  -- {name, line1, line2, city, state, postal_code, country}, as Stripe writes an address.
  add column shipping_address jsonb check (jsonb_typeof(shipping_address) = 'object'),
  add column billing_address jsonb check (jsonb_typeof(billing_address) = 'object'),
  -- The parts of amount_total, in the currency's minor units like it; null when unknown.
  add column amount_subtotal bigint check (amount_subtotal >= 0),
  add column amount_tax bigint check (amount_tax >= 0),
  add column amount_shipping bigint check (amount_shipping >= 0),
  add column amount_discount bigint check (amount_discount >= 0);

create sequence public.order_number_seq;

-- ORD-<year>-<000123>: the year is the order's, the counter the shop's, never reused.
create function public.next_order_number() returns text
language sql
set search_path = ''
as $$ select 'ORD-' || extract(year from now())::int || '-' || lpad(nextval('public.order_number_seq')::text, 6, '0') $$;

create table public.order_items (
  id uuid primary key default gen_random_uuid(),
  order_id uuid not null references public.orders (id) on delete cascade,
  -- The line's place in the order as the customer saw it.
  position integer not null default 0,
  product_id text not null check (length(product_id) between 1 and 255),
  name text not null check (length(name) between 1 and 500),
  sku text check (length(sku) between 1 and 255),
  quantity integer not null check (quantity between 1 and 1000000),
  -- Minor units of `currency`, like orders.amount_total.
  unit_price bigint not null check (unit_price >= 0),
  currency text not null check (currency ~ '^[a-z]{3}$'),
  image_url text check (image_url ~ '^https://' and length(image_url) <= 2048),
  created_at timestamptz not null default now()
);

create index order_items_order on public.order_items (order_id, position);

-- An order's lines are read by whoever may read the order.
alter table public.order_items enable row level security;
revoke all on public.order_items from anon, authenticated;
grant select on public.order_items to authenticated;
create policy "signed-in users read their own orders' items" on public.order_items
  for select to authenticated
  using (exists (select 1 from public.orders o where o.id = order_id and o.user_id = (select auth.uid())));

-- An order's lines as emails and partners see them, in order.
-- plpgsql, so its plan is kept: see order_lifecycle() in the stripe_webhooks migration.
create function public.order_items_json(p_order_id uuid) returns jsonb
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

-- An order as partners' order events carry it: its columns (without the lifecycle's
-- bookkeeping) and its items.
create function public.order_payload(p_order public.orders) returns jsonb
language plpgsql stable
set search_path = ''
as $$
begin
  return to_jsonb(p_order) - 'status_event_id' - 'status_event_at'
    || jsonb_build_object('items', public.order_items_json(p_order.id));
end;
$$;

-- What an order's emails can show. `amount` and `amount_refunded` stay the formatted text the
-- first templates used; the rest are minor units for the `money` helper.
create function public.order_email_data(p_order public.orders) returns jsonb
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

-- ---------------------------------------------------------------------------------------
-- Queueing an order's emails and publishing its events: with the items
-- ---------------------------------------------------------------------------------------
-- Same rules as before (email_queue migration); the data is order_email_data().
create or replace function public.enqueue_order_emails() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_order public.orders;
  v_data jsonb;
begin
  if tg_op = 'UPDATE' and new.status is not distinct from old.status then
    return null;
  end if;
  -- At insert the trigger runs at commit (deferred), once the app has written the lines: the
  -- row is read again, as the transaction left it.
  if tg_op = 'INSERT' then
    select * into v_order from public.orders where id = new.id;
    if v_order.id is null then
      return null;
    end if;
  else
    v_order := new;
  end if;
  if v_order.customer_email is null then
    return null;
  end if;
  -- A malformed address must not fail the payment that changed the status.
  if v_order.customer_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise warning 'order %: no email for malformed customer_email', v_order.id;
    return null;
  end if;
  v_data := public.order_email_data(v_order);

  if v_order.status = 'paid' and (tg_op = 'INSERT' or old.status in ('pending', 'payment_failed', 'canceled')) then
    perform public.enqueue_email('order_confirmation', v_order.customer_email, v_data,
                                 'order_confirmation:' || v_order.id);
  elsif v_order.status = 'payment_failed' then
    perform public.enqueue_email('payment_failed', v_order.customer_email, v_data,
                                 'payment_failed:' || v_order.id || ':' || coalesce(v_order.status_event_id, now()::text));
  elsif v_order.status in ('refunded', 'partially_refunded') then
    perform public.enqueue_email('refund_issued', v_order.customer_email, v_data,
                                 'refund_issued:' || v_order.id || ':' || v_order.amount_refunded);
  end if;
  return null;
end;
$$;

-- order.created at commit (deferred), so it carries the lines the app wrote after the order
-- in the same transaction; the other order events stay at the change itself.
create or replace function public.publish_order_events() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_order jsonb;
  v_row public.orders;
begin
  -- Every Stripe event that touches an order passes here: with no endpoint at all, skip
  -- building the payload. (publish_event still checks each type's subscribers.)
  if not exists (select 1 from public.webhook_endpoints e where e.active and e.disabled_at is null) then
    return null;
  end if;
  if tg_op = 'INSERT' then
    select * into v_row from public.orders where id = new.id;
    if v_row.id is not null then
      perform public.publish_event('order.created', v_row.tenant_id, public.order_payload(v_row));
    end if;
    return null;
  end if;
  if new is not distinct from old then
    return null;
  end if;
  v_order := public.order_payload(new);
  perform public.publish_event('order.updated', new.tenant_id, v_order);
  if new.status is distinct from old.status then
    case new.status
      when 'canceled' then perform public.publish_event('order.cancelled', new.tenant_id, v_order);
      when 'fulfilled' then perform public.publish_event('order.shipped', new.tenant_id, v_order);
      when 'paid' then
        if old.status in ('pending', 'payment_failed', 'canceled') then
          perform public.publish_event('payment.completed', new.tenant_id, v_order);
        end if;
      when 'payment_failed' then perform public.publish_event('payment.failed', new.tenant_id, v_order);
      when 'refunded', 'partially_refunded' then perform public.publish_event('payment.refunded', new.tenant_id, v_order);
      else null;
    end case;
  end if;
  return null;
end;
$$;

drop trigger orders_enqueue_emails on public.orders;
drop trigger orders_publish_events on public.orders;
create trigger orders_enqueue_emails after update of status on public.orders
  for each row execute function public.enqueue_order_emails();
create constraint trigger orders_enqueue_emails_created after insert on public.orders
  deferrable initially deferred
  for each row execute function public.enqueue_order_emails();
create trigger orders_publish_events after update on public.orders
  for each row execute function public.publish_order_events();
create constraint trigger orders_publish_created after insert on public.orders
  deferrable initially deferred
  for each row execute function public.publish_order_events();

-- ---------------------------------------------------------------------------------------
-- What a Stripe Checkout Session carries about the order (checkout.session.completed):
-- the customer's name, the addresses and the parts of the total, for an order that has
-- none of its own yet. The lines are not in the event (Stripe sends them only to an API
-- call that expands line_items), so the app writes them when it creates the order.
-- ---------------------------------------------------------------------------------------
create or replace function public.apply_order_effect(p_effect jsonb, p_at timestamptz, p_event_id text)
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

  -- One update, so the email trigger that the status change fires sees the customer's details.
  update public.orders o set
    stripe_checkout_session_id = coalesce(o.stripe_checkout_session_id, v_set ->> 'stripe_checkout_session_id'),
    stripe_payment_intent_id = coalesce(o.stripe_payment_intent_id, v_set ->> 'stripe_payment_intent_id'),
    stripe_customer_id = coalesce(o.stripe_customer_id, v_set ->> 'stripe_customer_id'),
    customer_email = coalesce(o.customer_email, v_set ->> 'customer_email'),
    customer_name = coalesce(o.customer_name, v_set ->> 'customer_name'),
    shipping_address = coalesce(o.shipping_address, v_set -> 'shipping_address'),
    billing_address = coalesce(o.billing_address, v_set -> 'billing_address'),
    amount_subtotal = coalesce(o.amount_subtotal, (v_set ->> 'amount_subtotal')::bigint),
    amount_tax = coalesce(o.amount_tax, (v_set ->> 'amount_tax')::bigint),
    amount_shipping = coalesce(o.amount_shipping, (v_set ->> 'amount_shipping')::bigint),
    amount_discount = coalesce(o.amount_discount, (v_set ->> 'amount_discount')::bigint),
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

-- ---------------------------------------------------------------------------------------
-- One brand and one layout for every email
-- ---------------------------------------------------------------------------------------
-- The shop as its emails present it: a single row (id is always true), read by every
-- template as `brand`. Update it; never insert a second.
create table public.email_brand (
  id boolean primary key default true check (id),
  shop_name text not null default 'Our shop' check (length(shop_name) between 1 and 200),
  logo_url text check (logo_url ~ '^https://' and length(logo_url) <= 2048),
  -- The buttons' and links' colour; also legible on a dark background at this default.
  primary_color text not null default '#2563eb' check (primary_color ~ '^#[0-9A-Fa-f]{6}$'),
  support_email text check (support_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(support_email) <= 320),
  -- The sender's postal address for the footer, which anti-spam laws ask of marketing mail.
  postal_address text check (length(postal_address) <= 500),
  shop_url text check (shop_url ~ '^https?://' and length(shop_url) <= 2048),
  -- Shown in emails that are not strictly transactional (email_templates.transactional).
  preferences_url text check (preferences_url ~ '^https?://' and length(preferences_url) <= 2048),
  -- How amounts and dates are written (Intl: en-US, de-DE, ja-JP) and in which time zone.
  locale text not null default 'en-US' check (locale ~ '^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  time_zone text not null default 'UTC' check (length(time_zone) between 1 and 64),
  updated_at timestamptz not null default now()
);
insert into public.email_brand default values;

-- Layouts wrap a template's body (`{{> content}}`); one, 'default', serves every template.
create table public.email_layouts (
  key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),
  html text not null check (length(html) <= 100000),
  text text not null check (length(text) <= 20000),
  updated_at timestamptz not null default now()
);
insert into public.email_layouts (key, html, text) values ('default', '{{> content}}', '{{> content}}');

alter table public.email_templates
  add column layout text default 'default' references public.email_layouts (key),
  -- The inbox list's preview line, after the subject.
  add column preheader text check (length(preheader) <= 500),
  -- False for emails a customer may opt out of: the layout then shows the preferences link.
  add column transactional boolean not null default true;
update public.email_templates set layout = 'default';

alter table public.email_brand enable row level security;
alter table public.email_layouts enable row level security;
revoke all on public.email_brand, public.email_layouts from anon, authenticated;
create policy "no api access" on public.email_brand for all to anon, authenticated using (false) with check (false);
create policy "no api access" on public.email_layouts for all to anon, authenticated using (false) with check (false);

revoke execute on function public.next_order_number(), public.order_items_json(uuid), public.order_payload(public.orders),
  public.order_email_data(public.orders) from public, anon, authenticated;
grant usage on sequence public.order_number_seq to service_role;
