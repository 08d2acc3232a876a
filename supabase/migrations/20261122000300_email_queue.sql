-- Transactional email driven by the database. Triggers enqueue in the same transaction as
-- the change that makes an email due (transactional outbox); email-service claims due jobs
-- with SKIP LOCKED and a lease, sends them through Resend with a key that is persisted before
-- the request, and records the outcome. A crashed worker's jobs come back when the lease
-- lapses and are resent with the same key and the same batch, so Resend's 24 h idempotency
-- turns the resend into a replay: no email goes out twice.

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table public.email_templates (
  key text primary key check (key ~ '^[a-z][a-z0-9_]*$'),
  subject text not null,
  html text not null,
  text text not null,
  updated_at timestamptz not null default now()
);

create table public.email_suppressions (
  email text primary key check (email = lower(email)),
  reason text not null check (reason in ('hard_bounce', 'complaint', 'provider_suppressed', 'manual')),
  source_event_id text,
  created_at timestamptz not null default now()
);

create table public.email_queue (
  id uuid primary key default gen_random_uuid(),
  template text not null references public.email_templates (key),
  recipient text not null check (recipient ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' and length(recipient) <= 320),
  data jsonb not null default '{}'::jsonb,
  -- pending → sending → sent → delivered; bounced / complained / failed / suppressed from the
  -- provider; failed also for a job that can never be sent (template error); dead after the
  -- last retry; canceled by an operator.
  status text not null default 'pending' check (status in (
    'pending', 'sending', 'sent', 'delivered', 'bounced', 'complained', 'failed', 'dead',
    'suppressed', 'canceled')),
  attempts integer not null default 0,
  max_attempts integer not null default 8 check (max_attempts between 1 and 50),
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  locked_by text,
  -- The Idempotency-Key of the request that carries this job (alone or in a batch). Set
  -- before the request; kept when the outcome is unknown (timeout, crash), so the retry is
  -- the same request; cleared when the provider refused it, so the job can join any batch.
  send_key uuid,
  last_error text,
  provider_message_id text unique,
  idempotency_key text not null unique check (length(idempotency_key) between 1 and 255),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  sent_at timestamptz,
  delivered_at timestamptz,
  opened_at timestamptz,
  clicked_at timestamptz
);

comment on table public.email_queue is
  'One row per email to send; claimed by email-service, updated by resend-webhook.';

-- The claim query reads only due work; these partial indexes hold just that, so a queue
-- with millions of sent rows still claims by index.
create index email_queue_due on public.email_queue (next_attempt_at) where status = 'pending';
create index email_queue_leased on public.email_queue (locked_until) where status = 'sending';
create index email_queue_send_key on public.email_queue (send_key) where send_key is not null;

alter table public.email_templates enable row level security;
alter table public.email_suppressions enable row level security;
alter table public.email_queue enable row level security;
revoke all on public.email_templates, public.email_suppressions, public.email_queue from anon, authenticated;
create policy "no api access" on public.email_templates for all to anon, authenticated using (false) with check (false);
create policy "no api access" on public.email_suppressions for all to anon, authenticated using (false) with check (false);
create policy "no api access" on public.email_queue for all to anon, authenticated using (false) with check (false);

-- The templates the order triggers use, so the first paid order in production finds them.
-- Placeholders are {{name}}; values are HTML-escaped in html and used as-is in text. Edit the
-- rows to restyle; a missing template would fail the payment's own transaction (foreign key).
insert into public.email_templates (key, subject, html, text) values
  ('order_confirmation', 'Order confirmed: {{order_id}}',
   '<h1>Thank you for your order</h1><p>We received your payment of <strong>{{amount}} {{currency}}</strong> for order <code>{{order_id}}</code>.</p>',
   'Thank you for your order. We received your payment of {{amount}} {{currency}} for order {{order_id}}.'),
  ('payment_failed', 'Payment failed for order {{order_id}}',
   '<h1>Your payment did not go through</h1><p>The payment of {{amount}} {{currency}} for order <code>{{order_id}}</code> failed. Please try another payment method.</p>',
   'Your payment of {{amount}} {{currency}} for order {{order_id}} failed. Please try another payment method.'),
  ('refund_issued', 'Refund issued for order {{order_id}}',
   '<h1>Your refund is on its way</h1><p>We refunded {{amount_refunded}} {{currency}} for order <code>{{order_id}}</code>.</p>',
   'We refunded {{amount_refunded}} {{currency}} for order {{order_id}}.'),
  ('password_reset', 'Reset your password',
   '<p>Someone asked to reset the password for this address. <a href="{{reset_url}}">Choose a new password</a>. If it was not you, ignore this email.</p>',
   'Someone asked to reset the password for this address. Choose a new password: {{reset_url}} — if it was not you, ignore this email.'),
  ('quote_submitted', 'We received your quote request {{quote_id}}',
   '<p>Hello {{name}}, we received your quote request <code>{{quote_id}}</code> and will answer within one business day.</p>',
   'Hello {{name}}, we received your quote request {{quote_id}} and will answer within one business day.')
on conflict (key) do nothing;

-- ---------------------------------------------------------------------------------------
-- Wake-ups, shared by every queue worker (email-service here, webhook-dispatcher later).
-- NOTIFY for the local stack, which listens; on Supabase, pg_net calls the worker once per
-- inserting statement with the URL and secret from Vault. Both lookups are dynamic so these
-- migrations also apply to a Postgres without pg_net or Vault.
-- ---------------------------------------------------------------------------------------
create function public.wake_worker(p_channel text, p_url_secret text, p_wakeup_secret text, p_action text)
returns void
language plpgsql
set search_path = ''
as $$
declare
  v_url text;
  v_secret text;
begin
  -- NOTIFY makes Postgres take a database-wide lock while the transaction commits, so every
  -- notifying commit waits for the previous one: with it on every paid order, stripe-webhook's
  -- p99 at concurrency 16 went from 26 to 55 ms. One notifier in flight per queue is enough:
  -- the woken worker drains what has committed by then, and the sweep catches the rest. The
  -- same holds for pg_net's HTTP wake-up, which would otherwise queue a request per row.
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('wake:' || p_channel, 0)) then
    return;
  end if;
  perform pg_catalog.pg_notify(p_channel, 'due');
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_net')
     or not exists (select 1 from pg_catalog.pg_namespace where nspname = 'vault') then
    return;
  end if;
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into v_url using p_url_secret;
  execute 'select decrypted_secret from vault.decrypted_secrets where name = $1' into v_secret using p_wakeup_secret;
  if v_url is null or v_secret is null then
    return;
  end if;
  execute $q$select net.http_post(url := $1, body := jsonb_build_object('action', $3),
                headers := jsonb_build_object('content-type', 'application/json', 'x-wakeup-secret', $2),
                timeout_milliseconds := 5000)$q$
    using v_url, v_secret, p_action;
end;
$$;

-- Statement-level trigger body: the arguments are wake_worker's, so each queue declares its
-- wake-up in its `create trigger` alone.
create function public.wake_worker_after_insert() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  perform public.wake_worker(tg_argv[0], tg_argv[1], tg_argv[2], tg_argv[3]);
  return null;
end;
$$;

-- Schedules `p_command` every minute under `p_job` if pg_cron is installed; returns whether it
-- did. Call it again after enabling pg_cron later.
create function public.schedule_sweep(p_job text, p_command text) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return false;
  end if;
  execute 'select cron.schedule($1, ''* * * * *'', $2)' using p_job, p_command;
  return true;
end;
$$;

create function public.wake_email_worker() returns void
language sql
set search_path = ''
as $$ select public.wake_worker('email_queue', 'email_service_url', 'email_wakeup_secret', 'drain') $$;

-- Statement level: a trigger that pays 1,000 orders at once wakes the worker once, not 1,000 times.
create trigger email_queue_wake after insert on public.email_queue
  for each statement execute function public.wake_worker_after_insert(
    'email_queue', 'email_service_url', 'email_wakeup_secret', 'drain');

-- The sweep: retries fall due without any insert to wake the worker.
create function public.schedule_email_sweep() returns boolean
language sql
set search_path = ''
as $$ select public.schedule_sweep('email-queue-sweep', 'select public.wake_email_worker()') $$;

select public.schedule_email_sweep();

-- ---------------------------------------------------------------------------------------
-- Enqueueing
-- ---------------------------------------------------------------------------------------
-- App-callable (service role): queue `template` for `p_to`. The key makes it idempotent: a
-- second call with the same key returns the first job's id and queues nothing.
create function public.enqueue_email(p_template text, p_to text, p_data jsonb, p_idempotency_key text)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
  v_id uuid;
  v_to text := lower(trim(p_to));
begin
  insert into public.email_queue (template, recipient, data, idempotency_key, status)
  values (p_template, v_to, coalesce(p_data, '{}'::jsonb), p_idempotency_key,
          case when exists (select 1 from public.email_suppressions s where s.email = v_to)
               then 'suppressed' else 'pending' end)
  on conflict (idempotency_key) do nothing
  returning id into v_id;
  if v_id is null then
    select id into v_id from public.email_queue where idempotency_key = p_idempotency_key;
  end if;
  return v_id;
end;
$$;

-- The emails an order's status change makes due. Keys carry what makes each email unique,
-- so a redelivered Stripe event (or a status set twice) never queues a second copy.
create function public.enqueue_order_emails() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_data jsonb;
begin
  if new.customer_email is null
     or (tg_op = 'UPDATE' and new.status is not distinct from old.status) then
    return null;
  end if;
  -- A malformed address must not fail the payment that changed the status.
  if new.customer_email !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
    raise warning 'order %: no email for malformed customer_email', new.id;
    return null;
  end if;
  v_data := jsonb_build_object(
    'order_id', new.id,
    'amount', to_char(new.amount_total / 100.0, 'FM999999990.00'),
    'amount_refunded', to_char(new.amount_refunded / 100.0, 'FM999999990.00'),
    'currency', upper(new.currency));

  if new.status = 'paid' and (tg_op = 'INSERT' or old.status in ('pending', 'payment_failed', 'canceled')) then
    perform public.enqueue_email('order_confirmation', new.customer_email, v_data,
                                 'order_confirmation:' || new.id);
  elsif new.status = 'payment_failed' then
    perform public.enqueue_email('payment_failed', new.customer_email, v_data,
                                 'payment_failed:' || new.id || ':' || coalesce(new.status_event_id, now()::text));
  elsif new.status in ('refunded', 'partially_refunded') then
    perform public.enqueue_email('refund_issued', new.customer_email, v_data,
                                 'refund_issued:' || new.id || ':' || new.amount_refunded);
  end if;
  return null;
end;
$$;

create trigger orders_enqueue_emails after insert or update of status on public.orders
  for each row execute function public.enqueue_order_emails();

-- ---------------------------------------------------------------------------------------
-- Claiming and completing (email-service). Marking jobs sent, complete_email_jobs, comes with
-- Resend's events in the next migration: it also applies the events that beat it there.
-- ---------------------------------------------------------------------------------------
-- Claims up to p_limit due jobs for p_worker: pending ones whose time has come and sending
-- ones whose lease lapsed (a crashed worker's). Every other member of a claimed job's send
-- batch comes along, so an unknown-outcome batch is resent whole, as the same request.
-- Recipients suppressed since enqueueing are settled here and never returned.
create function public.claim_email_jobs(p_worker text, p_limit integer, p_lease_seconds integer)
returns setof public.email_queue
language plpgsql
set search_path = ''
as $$
begin
  return query
  with due as (
    select q.id from public.email_queue q
    where q.status = 'pending' and q.next_attempt_at <= now()
    union all
    select q.id from public.email_queue q
    where q.status = 'sending' and q.locked_until < now()
  ),
  picked as (
    select q.id, q.send_key from public.email_queue q
    where q.id in (select id from due)
    order by q.next_attempt_at
    limit p_limit
    for update skip locked
  ),
  companions as (
    select q.id from public.email_queue q
    where q.send_key in (select send_key from picked where send_key is not null)
      and q.id not in (select id from picked)
      and (q.status = 'pending' or (q.status = 'sending' and q.locked_until < now()))
    for update skip locked
  ),
  claimed as (
    select id from picked union select id from companions
  ),
  suppressed as (
    update public.email_queue q set status = 'suppressed', locked_until = null, locked_by = null,
      last_error = 'recipient is on the suppression list', updated_at = now()
    where q.id in (select id from claimed)
      and exists (select 1 from public.email_suppressions s where s.email = q.recipient)
    returning q.id
  )
  update public.email_queue q set
    status = 'sending',
    attempts = q.attempts + 1,
    locked_until = now() + make_interval(secs => p_lease_seconds),
    locked_by = p_worker,
    updated_at = now()
  where q.id in (select id from claimed)
    and q.id not in (select id from suppressed)
  returning q.*;
end;
$$;

-- Persists the Idempotency-Key of the request about to carry these jobs.
create function public.assign_email_send_key(p_ids uuid[], p_send_key uuid) returns void
language sql
set search_path = ''
as $$
  update public.email_queue set send_key = p_send_key, updated_at = now()
  where id = any (p_ids) and status = 'sending';
$$;

-- Settles jobs after a failed send attempt.
-- p_outcome: 'retry'     transient failure (5xx, timeout): back off, keep the send key
--                        when p_keep_send_key (the provider may have accepted it);
--            'throttled' the provider refused for rate (429): wait p_retry_after_seconds,
--                        the attempt does not count;
--            'failed'    can never succeed (invalid input, template error): final.
-- Backoff: 30 s doubling per attempt, capped at 1 h, ±20% jitter so a burst of failures
-- does not come back as a burst; after max_attempts the job is dead with its last error.
create function public.fail_email_jobs(
  p_ids uuid[],
  p_outcome text,
  p_error text,
  p_retry_after_seconds integer default null,
  p_keep_send_key boolean default false
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_jitter double precision := 0.8 + random() * 0.4;
begin
  if p_outcome = 'failed' then
    update public.email_queue set status = 'failed', last_error = p_error, locked_until = null,
      locked_by = null, updated_at = now()
    where id = any (p_ids) and status = 'sending';
    return;
  end if;

  update public.email_queue q set
    status = case when p_outcome = 'retry' and q.attempts >= q.max_attempts then 'dead' else 'pending' end,
    attempts = case when p_outcome = 'throttled' then greatest(q.attempts - 1, 0) else q.attempts end,
    next_attempt_at = now() + make_interval(secs => coalesce(
      p_retry_after_seconds::double precision,
      least(3600, 30 * power(2, greatest(q.attempts - 1, 0))) * v_jitter)),
    send_key = case when p_keep_send_key then q.send_key end,
    last_error = p_error,
    locked_until = null,
    locked_by = null,
    updated_at = now()
  where q.id = any (p_ids) and q.status = 'sending';
end;
$$;

revoke execute on function public.wake_worker(text, text, text, text), public.wake_worker_after_insert(),
  public.schedule_sweep(text, text), public.wake_email_worker(), public.schedule_email_sweep(), public.enqueue_email(text, text, jsonb, text),
  public.enqueue_order_emails(), public.claim_email_jobs(text, integer, integer),
  public.assign_email_send_key(uuid[], uuid), public.fail_email_jobs(uuid[], text, text, integer, boolean)
  from public, anon, authenticated;
grant execute on function public.enqueue_email(text, text, jsonb, text) to service_role;
