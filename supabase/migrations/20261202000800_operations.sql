-- Operations: one health view over everything that flows through the suite (inbound events
-- per provider and source, the email queue, partner deliveries overall and per endpoint),
-- the alerts it raises, and the figures /metrics exports. The checks' thresholds live in
-- ops_thresholds, so an operator tunes them with an UPDATE, and every reader (health, alerts,
-- metrics) applies the same rule.

-- ---------------------------------------------------------------------------------------
-- What the window scans need
-- ---------------------------------------------------------------------------------------
-- Health aggregates the last N minutes of each table. These tables are appended in time
-- order, so a BRIN index finds the window's blocks at a fraction of a B-tree's size and
-- insert cost (one summary per 128 pages).
create index webhook_events_received_brin on public.webhook_events using brin (received_at);
create index email_queue_created_brin on public.email_queue using brin (created_at);
create index webhook_deliveries_created_brin on public.webhook_deliveries using brin (created_at);
create index webhook_delivery_attempts_started_brin on public.webhook_delivery_attempts using brin (started_at);

-- The backlog (everything not yet settled) at any age: few rows, read on every health check,
-- so it gets its own partial index rather than a scan of the whole table (385 ms p99 at 1M
-- events without it).
create index webhook_events_backlog on public.webhook_events (provider, received_at)
  where status in ('pending', 'failed', 'unmatched');

-- Redeliveries: a duplicate did nothing to the event, but health counts them (a provider that
-- redelivers is one that did not get our 2xx in time).
alter table public.webhook_events
  add column duplicates integer not null default 0,
  add column last_duplicate_at timestamptz;
create index webhook_events_recent_duplicates on public.webhook_events (last_duplicate_at)
  where last_duplicate_at is not null;

-- begin_webhook_event now counts the redelivery it finds, in the same statement that finds it.
create or replace function public.begin_webhook_event(p_provider text, p_event_id text)
returns table (status text, outcome text, error text)
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(p_provider || ':' || p_event_id, 0));
  return query
    update public.webhook_events e set duplicates = e.duplicates + 1, last_duplicate_at = now()
    where e.provider = p_provider and e.event_id = p_event_id and e.status <> 'failed'
    returning e.status, e.outcome, e.error;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Thresholds: the one home of the health rules
-- ---------------------------------------------------------------------------------------
create table public.ops_thresholds (
  check_name text primary key,
  -- 'component': every provider, source, email and outbound; 'endpoint': each partner endpoint.
  applies_to text not null check (applies_to in ('component', 'endpoint')),
  threshold numeric not null,
  -- 'max': the check fails above the threshold; 'min': below it.
  direction text not null check (direction in ('max', 'min')),
  alert_type text not null,
  severity text not null check (severity in ('INFO', 'WARNING', 'ERROR', 'CRITICAL')),
  -- Plain words for the operator; {threshold} is replaced by the threshold.
  recommendation text not null
);

comment on table public.ops_thresholds is
  'Health checks: threshold, the alert a failing check raises, its severity and recommendation. Edit to tune.';

alter table public.ops_thresholds enable row level security;
revoke all on public.ops_thresholds from anon, authenticated;
create policy "no api access" on public.ops_thresholds for all to anon, authenticated using (false) with check (false);

insert into public.ops_thresholds values
  ('recent_failures', 'component', 10, 'max', 'HIGH_FAILURE_RATE', 'ERROR',
   'More than {threshold} items failed in the window. Read their errors (GET .../events?status=failed), fix the cause, then run retry-failed.'),
  ('backlog', 'component', 100, 'max', 'LARGE_BACKLOG', 'WARNING',
   'More than {threshold} items wait to be processed. Check that the worker is woken (pg_net and pg_cron in production) and that its calls succeed.'),
  ('oldest_pending_minutes', 'component', 30, 'max', 'STALE_EVENTS', 'WARNING',
   'An item has waited more than {threshold} minutes. A worker may have died holding a lease: auto-remediate releases expired leases.'),
  ('avg_attempts', 'component', 2, 'max', 'SLOW_PROCESSING', 'INFO',
   'Items need more than {threshold} attempts on average: the provider or partner on the other side fails now and then.'),
  ('duplicates', 'component', 5, 'max', 'DUPLICATE_EVENTS', 'INFO',
   'More than {threshold} redeliveries in the window: the provider did not get a 2xx in time. Check response times and the provider''s timeout.'),
  ('success_rate', 'component', 0.95, 'min', 'LOW_SUCCESS_RATE', 'ERROR',
   'Fewer than {threshold} of the settled items succeeded. Look at the failed ones first; retry-failed reprocesses them once the cause is fixed.'),
  ('endpoint_failure_rate', 'endpoint', 0.05, 'max', 'HIGH_FAILURE_RATE', 'ERROR',
   'More than {threshold} of the deliveries to this endpoint failed. Ask the partner; deliveries retry on their own.'),
  ('endpoint_response_ms', 'endpoint', 5000, 'max', 'SLOW_PROCESSING', 'WARNING',
   'The endpoint answers in more than {threshold} ms on average; past the timeout its deliveries fail and retry.'),
  ('endpoint_consecutive_failures', 'endpoint', 5, 'max', 'ENDPOINT_DOWN', 'CRITICAL',
   'More than {threshold} deliveries in a row failed: the endpoint is down. Its circuit holds further deliveries until a probe succeeds.');

-- ---------------------------------------------------------------------------------------
-- Alerts: one row per open problem
-- ---------------------------------------------------------------------------------------
create table public.ops_alerts (
  id bigint generated always as identity primary key,
  -- 'stripe', 'resend', 'source:<id>', 'email', 'outbound', 'endpoint:<id>'
  component text not null,
  tenant_id uuid,
  alert_type text not null,
  check_name text not null,
  severity text not null check (severity in ('INFO', 'WARNING', 'ERROR', 'CRITICAL')),
  status text not null default 'open' check (status in ('open', 'acknowledged', 'resolved')),
  value numeric,
  threshold numeric not null,
  recommendation text not null,
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  acknowledged_at timestamptz,
  acknowledged_by text,
  resolved_at timestamptz,
  resolved_by text
);

comment on table public.ops_alerts is
  'Health alerts: one row per failing check while it stays open (first and last seen), acknowledged or resolved by operators.';

-- The row a failing check keeps updating: at most one unresolved alert per component and check.
create unique index ops_alerts_unresolved on public.ops_alerts (component, check_name) where status <> 'resolved';
create index ops_alerts_recent on public.ops_alerts (last_seen_at desc);

alter table public.ops_alerts enable row level security;
revoke all on public.ops_alerts from anon, authenticated;
create policy "no api access" on public.ops_alerts for all to anon, authenticated using (false) with check (false);

-- ---------------------------------------------------------------------------------------
-- Figures
-- ---------------------------------------------------------------------------------------
-- One row per component with its figures over the last p_window_minutes (totals, processed,
-- failed, success rate, attempts, duplicates, processing time percentiles) and its backlog,
-- which is never windowed: an item waiting for a day is the one that matters most.
create function public.ops_component_figures(p_window_minutes integer)
returns table (component text, kind text, name text, tenant_id uuid, figures jsonb)
language sql
stable
set search_path = ''
as $$
  with since as (select now() - make_interval(mins => p_window_minutes) as at),
  inbound_window as (
    select e.provider,
           count(*) as total,
           count(*) filter (where e.status in ('processed', 'ignored')) as processed,
           count(*) filter (where e.status = 'failed') as failed,
           count(*) filter (where e.status = 'unmatched') as unmatched,
           avg(e.attempts) as avg_attempts,
           percentile_cont(array[0.5, 0.95, 0.99]) within group (
             order by extract(epoch from e.processed_at - e.received_at) * 1000)
             filter (where e.processed_at is not null) as times
    from public.webhook_events e, since
    where e.received_at >= since.at
    group by e.provider
  ),
  inbound_duplicates as (
    select e.provider, sum(e.duplicates) as duplicates
    from public.webhook_events e, since
    where e.last_duplicate_at >= since.at
    group by e.provider
  ),
  inbound_backlog as (
    select e.provider, count(*) as backlog, min(e.received_at) as oldest
    from public.webhook_events e
    where e.status in ('pending', 'failed', 'unmatched')
    group by e.provider
  ),
  inbound_components as (
    select 'stripe' as provider, 'Stripe' as name, null::uuid as tenant_id
    union all select 'resend', 'Resend', null
    union all select 'source:' || s.id, s.name, s.tenant_id from public.webhook_sources s
  ),
  inbound as (
    select c.provider as component, case when c.provider like 'source:%' then 'source' else 'provider' end as kind,
           c.name, c.tenant_id,
           coalesce(w.total, 0) as total, coalesce(w.processed, 0) as processed,
           coalesce(w.failed, 0) + coalesce(w.unmatched, 0) as failed, w.avg_attempts,
           coalesce(d.duplicates, 0) as duplicates, coalesce(b.backlog, 0) as backlog, b.oldest, w.times
    from inbound_components c
    left join inbound_window w on w.provider = c.provider
    left join inbound_duplicates d on d.provider = c.provider
    left join inbound_backlog b on b.provider = c.provider
  ),
  email as (
    select 'email' as component, 'email' as kind, 'Email' as name, null::uuid as tenant_id,
           w.total, w.processed, w.failed, w.avg_attempts, 0::numeric as duplicates,
           b.backlog, b.oldest, w.times
    from (
      select count(*) as total,
             count(*) filter (where q.status in ('sent', 'delivered', 'bounced', 'complained', 'suppressed')) as processed,
             count(*) filter (where q.status in ('failed', 'dead')) as failed,
             avg(q.attempts) filter (where q.attempts > 0) as avg_attempts,
             percentile_cont(array[0.5, 0.95, 0.99]) within group (
               order by extract(epoch from q.sent_at - q.created_at) * 1000) filter (where q.sent_at is not null) as times
      from public.email_queue q, since where q.created_at >= since.at
    ) w,
    (select count(*) as backlog, min(q.created_at) as oldest
     from public.email_queue q where q.status in ('pending', 'sending')) b
  ),
  deliveries_window as (
    select d.endpoint_id,
           count(*) as total,
           count(*) filter (where d.status = 'SUCCESS') as processed,
           count(*) filter (where d.status in ('FAILED', 'RETRY_EXHAUSTED')) as failed,
           count(*) filter (where d.attempts > 1) as retried,
           avg(d.attempts) filter (where d.attempts > 0) as avg_attempts,
           percentile_cont(array[0.5, 0.95, 0.99]) within group (
             order by extract(epoch from d.completed_at - d.created_at) * 1000)
             filter (where d.completed_at is not null) as times
    from public.webhook_deliveries d, since
    where d.created_at >= since.at
    group by d.endpoint_id
  ),
  response_times as (
    select d.endpoint_id, avg(a.duration_ms) as avg_response_ms
    from public.webhook_delivery_attempts a
    join public.webhook_deliveries d on d.id = a.delivery_id, since
    where a.started_at >= since.at
    group by d.endpoint_id
  ),
  deliveries_backlog as (
    select d.endpoint_id, count(*) as backlog, min(d.created_at) as oldest
    from public.webhook_deliveries d where d.status = 'PENDING'
    group by d.endpoint_id
  ),
  endpoints as (
    select 'endpoint:' || ep.id as component, 'endpoint' as kind, ep.url as name, ep.tenant_id,
           coalesce(w.total, 0) as total, coalesce(w.processed, 0) as processed, coalesce(w.failed, 0) as failed,
           coalesce(w.retried, 0) as retried, w.avg_attempts, coalesce(b.backlog, 0) as backlog, b.oldest, w.times,
           r.avg_response_ms, ep.consecutive_failures, ep.circuit_state, ep.active
    from public.webhook_endpoints ep
    left join deliveries_window w on w.endpoint_id = ep.id
    left join response_times r on r.endpoint_id = ep.id
    left join deliveries_backlog b on b.endpoint_id = ep.id
  ),
  outbound as (
    select 'outbound' as component, 'outbound' as kind, 'Partner webhooks' as name, null::uuid as tenant_id,
           coalesce(sum(w.total), 0) as total, coalesce(sum(w.processed), 0) as processed,
           coalesce(sum(w.failed), 0) as failed,
           sum(w.avg_attempts * w.total) / nullif(sum(w.total) filter (where w.avg_attempts is not null), 0) as avg_attempts,
           0::numeric as duplicates,
           (select count(*) from public.webhook_deliveries d where d.status = 'PENDING') as backlog,
           (select min(d.created_at) from public.webhook_deliveries d where d.status = 'PENDING') as oldest,
           (select percentile_cont(array[0.5, 0.95, 0.99]) within group (
              order by extract(epoch from d.completed_at - d.created_at) * 1000)
            from public.webhook_deliveries d, since where d.created_at >= since.at and d.completed_at is not null) as times
    from deliveries_window w
  ),
  summed as (
    select i.component, i.kind, i.name, i.tenant_id, i.total, i.processed, i.failed, i.avg_attempts, i.duplicates,
           i.backlog, i.oldest, i.times, null::jsonb as extra
    from inbound i
    union all select e.component, e.kind, e.name, e.tenant_id, e.total, e.processed, e.failed, e.avg_attempts,
                     e.duplicates, e.backlog, e.oldest, e.times, null from email e
    union all select o.component, o.kind, o.name, o.tenant_id, o.total, o.processed, o.failed, o.avg_attempts,
                     o.duplicates, o.backlog, o.oldest, o.times, null from outbound o
    union all select p.component, p.kind, p.name, p.tenant_id, p.total, p.processed, p.failed, p.avg_attempts, 0,
                     p.backlog, p.oldest, p.times,
                     jsonb_build_object(
                       'retry_rate', round(p.retried::numeric / nullif(p.total, 0), 4),
                       'avg_response_ms', round(p.avg_response_ms, 1),
                       'failure_rate', round(p.failed::numeric / nullif(p.processed + p.failed, 0), 4),
                       'consecutive_failures', p.consecutive_failures,
                       'circuit_state', p.circuit_state,
                       'active', p.active)
    from endpoints p
  )
  select s.component, s.kind, s.name, s.tenant_id,
         jsonb_build_object(
           'total', s.total,
           'processed', s.processed,
           'failed', s.failed,
           'pending', s.backlog,
           'success_rate', round(s.processed::numeric / nullif(s.processed + s.failed, 0), 4),
           'avg_attempts', round(s.avg_attempts, 2),
           'duplicates', s.duplicates,
           'oldest_pending_minutes', round((extract(epoch from now() - s.oldest) / 60)::numeric, 1),
           'processing_ms', jsonb_build_object('p50', round(s.times[1]::numeric, 1), 'p95', round(s.times[2]::numeric, 1),
                                               'p99', round(s.times[3]::numeric, 1))
         ) || coalesce(s.extra, '{}'::jsonb)
  from summed s
$$;

-- Each component's event types in the window (inbound only), busiest first.
create function public.ops_inbound_types(p_window_minutes integer)
returns table (component text, by_type jsonb)
language sql
stable
set search_path = ''
as $$
  select t.provider, jsonb_agg(jsonb_build_object('type', t.event_type, 'total', t.total, 'failed', t.failed)
                               order by t.total desc, t.event_type)
  from (
    select e.provider, e.event_type, count(*) as total,
           count(*) filter (where e.status in ('failed', 'unmatched')) as failed,
           row_number() over (partition by e.provider order by count(*) desc, e.event_type) as rank
    from public.webhook_events e
    where e.received_at >= now() - make_interval(mins => p_window_minutes)
    group by e.provider, e.event_type
  ) t
  where t.rank <= 20
  group by t.provider
$$;

-- The figure a check reads. A rate with nothing settled is null, and a null check passes:
-- a quiet source is not an unhealthy one.
create function public.ops_check_value(p_check text, p_figures jsonb) returns numeric
language sql
immutable
set search_path = ''
as $$
  select case p_check
    when 'recent_failures' then (p_figures ->> 'failed')::numeric
    when 'backlog' then (p_figures ->> 'pending')::numeric
    when 'oldest_pending_minutes' then (p_figures ->> 'oldest_pending_minutes')::numeric
    when 'avg_attempts' then (p_figures ->> 'avg_attempts')::numeric
    when 'duplicates' then (p_figures ->> 'duplicates')::numeric
    when 'success_rate' then (p_figures ->> 'success_rate')::numeric
    when 'endpoint_failure_rate' then (p_figures ->> 'failure_rate')::numeric
    when 'endpoint_response_ms' then (p_figures ->> 'avg_response_ms')::numeric
    when 'endpoint_consecutive_failures' then (p_figures ->> 'consecutive_failures')::numeric
  end
$$;

-- HEALTHY when every check passes, DEGRADED when one or two fail, CRITICAL from three.
create function public.ops_status(p_failing integer) returns text
language sql
immutable
set search_path = ''
as $$ select case when p_failing = 0 then 'HEALTHY' when p_failing <= 2 then 'DEGRADED' else 'CRITICAL' end $$;

-- The health of everything over the last p_window_minutes, and the alerts brought up to date
-- with it: a failing check opens an alert (published to partners as alert.opened) or updates
-- the open one's last_seen_at and value; a check that passes again resolves its alert
-- (alert.resolved). Concurrent calls meet on ops_alerts_unresolved, so an alert opens once.
create function public.ops_health(p_window_minutes integer) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_figures jsonb;
  v_components jsonb;
  v_checks jsonb;
begin
  -- Computed once: the checks and the answer both read these rows.
  select jsonb_agg(to_jsonb(f)) into v_figures from public.ops_component_figures(p_window_minutes) f;
  with figures as (
    select * from jsonb_to_recordset(v_figures) as f (component text, kind text, name text, tenant_id uuid, figures jsonb)
  ),
  checks as (
    select f.component, f.tenant_id, t.check_name, t.alert_type, t.severity, t.threshold, t.direction,
           replace(t.recommendation, '{threshold}', t.threshold::text) as recommendation,
           public.ops_check_value(t.check_name, f.figures) as value
    from figures f
    join public.ops_thresholds t on t.applies_to = case when f.kind = 'endpoint' then 'endpoint' else 'component' end
  )
  select jsonb_agg(to_jsonb(c) || jsonb_build_object('passed',
           c.value is null or (c.direction = 'max' and c.value <= c.threshold)
                           or (c.direction = 'min' and c.value >= c.threshold)))
  into v_checks from checks c;

  with upserted as (
    insert into public.ops_alerts as a (component, tenant_id, alert_type, check_name, severity, value, threshold, recommendation)
    select c.component, c.tenant_id, c.alert_type, c.check_name, c.severity, c.value, c.threshold, c.recommendation
    from jsonb_to_recordset(v_checks) as c (component text, tenant_id uuid, alert_type text, check_name text,
                                            severity text, value numeric, threshold numeric, recommendation text, passed boolean)
    where not c.passed
    on conflict (component, check_name) where status <> 'resolved' do update set
      last_seen_at = now(), value = excluded.value, severity = excluded.severity,
      threshold = excluded.threshold, recommendation = excluded.recommendation
    returning a.*, (xmax = 0) as opened
  )
  select count(public.publish_event('alert.opened', u.tenant_id, to_jsonb(u) - 'opened')) into strict v_components
  from upserted u where u.opened;

  with resolved as (
    update public.ops_alerts a set status = 'resolved', resolved_at = now(), resolved_by = 'health'
    where a.status <> 'resolved' and not exists (
      select 1 from jsonb_to_recordset(v_checks) as c (component text, check_name text, passed boolean)
      where c.component = a.component and c.check_name = a.check_name and not c.passed)
    returning a.*
  )
  select count(public.publish_event('alert.resolved', r.tenant_id, to_jsonb(r))) into strict v_components from resolved r;

  select jsonb_agg(jsonb_build_object(
           'component', f.component, 'kind', f.kind, 'name', f.name, 'tenant_id', f.tenant_id,
           'status', public.ops_status(coalesce(j.failing, 0)),
           'failing', coalesce(j.failing_checks, '[]'::jsonb),
           'figures', f.figures,
           'checks', coalesce(j.checks, '[]'::jsonb),
           'by_type', coalesce(t.by_type, '[]'::jsonb))
         order by f.kind, f.component)
  into v_components
  from jsonb_to_recordset(v_figures) as f (component text, kind text, name text, tenant_id uuid, figures jsonb)
  left join public.ops_inbound_types(p_window_minutes) t on t.component = f.component
  left join lateral (
    select count(*) filter (where not (c ->> 'passed')::boolean)::integer as failing,
           jsonb_agg(c ->> 'check_name') filter (where not (c ->> 'passed')::boolean) as failing_checks,
           jsonb_agg(jsonb_build_object('check', c ->> 'check_name', 'value', c -> 'value',
                                        'threshold', c -> 'threshold', 'passed', c -> 'passed')) as checks
    from jsonb_array_elements(v_checks) c where c ->> 'component' = f.component
  ) j on true;

  return jsonb_build_object(
    'generated_at', now(),
    'window_minutes', p_window_minutes,
    'components', coalesce(v_components, '[]'::jsonb),
    'alerts', coalesce((
      select jsonb_agg(to_jsonb(a) order by a.last_seen_at desc)
      from public.ops_alerts a where a.status <> 'resolved'), '[]'::jsonb));
end;
$$;

-- pg_cron runs the health check every minute, so alerts open (and reach partners as
-- alert.opened) when nobody has the dashboard open.
create function public.schedule_ops_health() returns boolean
language sql
set search_path = ''
as $$ select public.schedule_sweep('ops-health', 'select public.ops_health(60)') $$;

select public.schedule_ops_health();

-- ---------------------------------------------------------------------------------------
-- Retention
-- ---------------------------------------------------------------------------------------
-- How long settled rows are kept, in days. Successes go after 30, failures after 90 (an
-- operator may still want to replay them); both far past the providers' retry windows
-- (Stripe retries for 3 days), so a redelivery always meets its event's row and stays a
-- duplicate: 7 days is the floor. Security events and the operators' audit trail have their own.
create table public.ops_retention (
  -- 'successes', 'failures', 'security_events', 'audits': the kinds ops_cleanup_batch reads.
  kind text primary key,
  days integer not null check (days between 7 and 3650)
);

comment on table public.ops_retention is 'Days each kind of row is kept; ops_retention() and the cleanup action apply them.';

alter table public.ops_retention enable row level security;
revoke all on public.ops_retention from anon, authenticated;
create policy "no api access" on public.ops_retention for all to anon, authenticated using (false) with check (false);

insert into public.ops_retention values ('successes', 30), ('failures', 90), ('security_events', 90), ('audits', 365);

create index outbound_events_created_brin on public.outbound_events using brin (created_at);
create index security_events_created_brin on public.security_events using brin (created_at);

-- The tables retention covers, in the order it empties them: deliveries before the outbound
-- events they refer to.
create function public.ops_retention_tables() returns text[]
language sql
immutable
set search_path = ''
as $$ select array['webhook_events', 'email_queue', 'webhook_deliveries', 'outbound_events', 'security_events'] $$;

-- Deletes up to p_limit rows of p_table past retention (or, with p_dry_run, counts all of
-- them) and returns how many. One short statement per call: each transaction stays small,
-- only the deleted rows are locked, and old settled rows are ones nothing else touches.
-- Deliveries take their attempts with them (on delete cascade).
create function public.ops_cleanup_batch(
  p_table text,
  p_success_days integer,
  p_failure_days integer,
  p_limit integer,
  p_dry_run boolean default false
) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_success timestamptz := now() - make_interval(days => p_success_days);
  v_failure timestamptz := now() - make_interval(days => p_failure_days);
  v_security timestamptz;
  v_audit timestamptz;
  v_where text;
  v_count integer;
begin
  select now() - make_interval(days => days) into v_security from public.ops_retention where kind = 'security_events';
  select now() - make_interval(days => days) into v_audit from public.ops_retention where kind = 'audits';
  v_where := case p_table
    when 'webhook_events' then
      '(t.status in (''processed'', ''ignored'') and t.received_at < $1) or (t.status in (''failed'', ''unmatched'') and t.received_at < $2)'
    when 'email_queue' then
      '(t.status in (''sent'', ''delivered'', ''bounced'', ''complained'', ''suppressed'', ''canceled'') and t.created_at < $1)'
      ' or (t.status in (''failed'', ''dead'') and t.created_at < $2)'
    when 'webhook_deliveries' then
      '(t.status = ''SUCCESS'' and t.created_at < $1) or (t.status in (''FAILED'', ''RETRY_EXHAUSTED'') and t.created_at < $2)'
    when 'outbound_events' then
      't.created_at < $1 and not exists (select 1 from public.webhook_deliveries d where d.event_id = t.id)'
    when 'security_events' then
      '(t.kind <> ''ops_action'' and t.created_at < $3) or (t.kind = ''ops_action'' and t.created_at < $4)'
  end;
  if v_where is null then
    raise exception 'retention does not cover %', p_table;
  end if;
  if p_dry_run then
    execute format('select count(*) from public.%I t where %s', p_table, v_where)
      into v_count using v_success, v_failure, v_security, v_audit;
  else
    execute format('with gone as (delete from public.%I d where d.ctid = any(array('
                   'select t.ctid from public.%I t where %s limit $5)) returning 1) select count(*) from gone',
                   p_table, p_table, v_where)
      into v_count using v_success, v_failure, v_security, v_audit, p_limit;
  end if;
  return v_count;
end;
$$;

-- The scheduled retention run: the configured days, at most p_batches batches of 5,000 rows
-- per table, so one run stays bounded (up to 250,000 rows a table, seconds of work) and the
-- hourly schedule keeps up with a busy shop (100M rows a year is ~11,000 an hour). Returns the
-- rows deleted per table.
create function public.ops_retention(p_batches integer default 50) returns jsonb
language plpgsql
set search_path = ''
as $$
declare
  v_success integer;
  v_failure integer;
  v_table text;
  v_deleted integer;
  v_batch integer;
  v_report jsonb := '{}'::jsonb;
begin
  select days into v_success from public.ops_retention where kind = 'successes';
  select days into v_failure from public.ops_retention where kind = 'failures';
  foreach v_table in array public.ops_retention_tables() loop
    v_deleted := 0;
    for i in 1 .. p_batches loop
      v_batch := public.ops_cleanup_batch(v_table, v_success, v_failure, 5000);
      v_deleted := v_deleted + v_batch;
      exit when v_batch < 5000;
    end loop;
    v_report := v_report || jsonb_build_object(v_table, v_deleted);
  end loop;
  return v_report;
end;
$$;

-- Schedules `p_command` on the cron `p_schedule` under `p_job` if pg_cron is installed; returns
-- whether it did. The one place that asks for pg_cron: schedule_sweep (every minute) now
-- delegates here too.
create function public.schedule_job(p_job text, p_schedule text, p_command text) returns boolean
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select 1 from pg_catalog.pg_extension where extname = 'pg_cron') then
    return false;
  end if;
  execute 'select cron.schedule($1, $2, $3)' using p_job, p_schedule, p_command;
  return true;
end;
$$;

create or replace function public.schedule_sweep(p_job text, p_command text) returns boolean
language sql
set search_path = ''
as $$ select public.schedule_job(p_job, '* * * * *', p_command) $$;

-- Hourly (see ops_retention for why hourly and bounded).
create function public.schedule_ops_retention() returns boolean
language sql
set search_path = ''
as $$ select public.schedule_job('ops-retention', '17 * * * *', 'select public.ops_retention()') $$;

select public.schedule_ops_retention();

revoke execute on function public.ops_component_figures(integer), public.ops_inbound_types(integer),
  public.ops_check_value(text, jsonb), public.ops_status(integer), public.ops_health(integer),
  public.schedule_ops_health(), public.ops_retention_tables(),
  public.ops_cleanup_batch(text, integer, integer, integer, boolean), public.ops_retention(integer),
  public.schedule_ops_retention(), public.schedule_job(text, text, text)
  from public, anon, authenticated;
