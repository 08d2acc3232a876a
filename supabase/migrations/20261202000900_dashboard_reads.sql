-- Dashboard reads: what the operator dashboard lists and charts through /operations (events
-- across every provider, emails, one event's or email's history, events per time bucket), and
-- the indexes those reads need so that a page costs a limit's worth of rows, not a table scan.

-- ---------------------------------------------------------------------------------------
-- Events across providers, newest first
-- ---------------------------------------------------------------------------------------
-- GET /operations/events pages by (received_at, id) descending. The BRIN index on received_at
-- finds a window's blocks but cannot return rows in order, so a page of 50 newest events would
-- sort the whole table. One source's events already have webhook_events_source_received.
create index webhook_events_received on public.webhook_events (received_at desc, id desc);

-- A provider's event id (`?event_id=evt_...`) across providers: the unique key
-- (provider, event_id) serves it only when the provider is given, since Postgres 17 has no
-- skip scan over its leading column, and the operator pasting an id from a provider's console
-- often does not say which source it came to.
create index webhook_events_event_id on public.webhook_events (event_id);

-- An email's delivery events (GET /operations/emails/:id): Resend's events by the message id
-- they carry, a handful per message. It replaces webhook_events_resend_unmatched_message, which
-- held only the unmatched ones: reconciling those (reconcile_email_events) now reads this
-- index and filters on status, and every Resend event keeps one index to update, not two.
create index webhook_events_resend_message on public.webhook_events ((payload -> 'data' ->> 'email_id'))
  where provider = 'resend';
drop index public.webhook_events_resend_unmatched_message;

-- ---------------------------------------------------------------------------------------
-- Emails, newest first
-- ---------------------------------------------------------------------------------------
-- GET /operations/emails pages by (created_at, id) descending; `?recipient=` answers "did this
-- customer get the email?", the question an operator asks most.
create index email_queue_created on public.email_queue (created_at desc, id desc);
create index email_queue_recipient on public.email_queue (recipient, created_at desc, id desc);

-- ---------------------------------------------------------------------------------------
-- An event's audit trail
-- ---------------------------------------------------------------------------------------
-- The ops_action audits, newest first, without reading every other security event (an attack
-- writes thousands of auth_failure rows; the audits of one event are a handful).
create index security_events_ops_actions on public.security_events (created_at desc, id desc)
  where kind = 'ops_action';

-- ---------------------------------------------------------------------------------------
-- Events per bucket, for the chart
-- ---------------------------------------------------------------------------------------
-- Inbound events per bucket of p_bucket_minutes: the ceil(window / bucket) buckets ending with
-- the one that holds now(), aligned on multiples of the bucket since the Unix epoch (UTC), so
-- a dashboard polling every few seconds sees the same bucket boundaries each time. Every
-- bucket has a row, empty ones included. processed counts processed and ignored events, failed
-- counts failed and unmatched ones, as health does. p_component narrows to `stripe`, `resend`
-- or `source:<id>`; p_tenant_id (a tenant's admin) to that tenant's sources.
create function public.ops_event_series(
  p_window_minutes integer,
  p_bucket_minutes integer,
  p_component text default null,
  p_tenant_id uuid default null
)
returns table (bucket_start timestamptz, total bigint, processed bigint, failed bigint)
language sql
stable
set search_path = ''
as $$
  with size as (select make_interval(mins => p_bucket_minutes) as step),
  bounds as (
    select pg_catalog.date_bin(size.step, now(), timestamptz '1970-01-01 00:00:00+00')
             - (((p_window_minutes + p_bucket_minutes - 1) / p_bucket_minutes) - 1) * size.step as first,
           size.step
    from size
  ),
  buckets as (
    select pg_catalog.generate_series(b.first, now(), b.step) as bucket_start from bounds b
  ),
  counted as (
    select pg_catalog.date_bin(b.step, e.received_at, timestamptz '1970-01-01 00:00:00+00') as bucket_start,
           count(*) as total,
           count(*) filter (where e.status in ('processed', 'ignored')) as processed,
           count(*) filter (where e.status in ('failed', 'unmatched')) as failed
    from public.webhook_events e, bounds b
    where e.received_at >= b.first
      and (p_component is null or e.provider = p_component)
      and (p_tenant_id is null
           or e.source_id in (select s.id from public.webhook_sources s where s.tenant_id = p_tenant_id))
    group by 1
  )
  select k.bucket_start, coalesce(c.total, 0), coalesce(c.processed, 0), coalesce(c.failed, 0)
  from buckets k left join counted c using (bucket_start)
  order by k.bucket_start
$$;

revoke execute on function public.ops_event_series(integer, integer, text, uuid) from public, anon, authenticated;
