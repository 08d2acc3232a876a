-- Share tracking and product analytics: raw events from browsers, and the pre-aggregated tables
-- the metrics API reads. Everything is written by track-social-share and analytics-service
-- (service connection) through the functions below; browsers never reach these tables.
--
-- Why rollups are maintained at ingest rather than computed at query time: a "count and
-- unique sessions per event per day" query over raw events scans every row in the range and
-- hashes (day, event, session) triples, so it grows with traffic; the rollup answers it from
-- one row per bucket and event. Ingest pays a few extra rows per batch, not per event, because
-- a batch comes from one browser session.

-- ---------------------------------------------------------------------------------------
-- analytics_events: one row per accepted event; the client's event id makes retries harmless.
-- ---------------------------------------------------------------------------------------
create table public.analytics_events (
  id bigint generated always as identity primary key,
  client_event_id uuid not null,
  event_name text not null check (event_name ~ '^[a-z][a-z0-9_]{0,63}$'),
  custom boolean not null default false,
  occurred_at timestamptz not null,
  received_at timestamptz not null default now(),
  session_id text not null,
  user_id uuid,
  page_url text,
  referrer_host text,
  content_type text,
  content_id text,
  platform text,
  utm_source text,
  utm_medium text,
  utm_campaign text,
  utm_term text,
  utm_content text,
  device text not null default 'unknown',
  browser text,
  os text,
  -- SHA-256 of the client address under a salt that is deleted after two days: events of one
  -- day can be told apart by address, but no address can be recovered or matched later.
  ip_hash text,
  properties jsonb not null default '{}'::jsonb
);

comment on table public.analytics_events is
  'Raw analytics events from browsers, normalized; never holds a raw IP address.';

create unique index analytics_events_client_event_id on public.analytics_events (client_event_id);
-- Events arrive in time order, so a BRIN index serves range exports and retention deletes at
-- almost no write cost.
create index analytics_events_occurred_at on public.analytics_events using brin (occurred_at);

-- ---------------------------------------------------------------------------------------
-- social_shares: one row per counted share; repeats within the dedup window are not stored.
-- ---------------------------------------------------------------------------------------
create table public.social_shares (
  id uuid primary key default gen_random_uuid(),
  created_at timestamptz not null default now(),
  platform text not null check (platform in (
    'facebook', 'x', 'linkedin', 'pinterest', 'reddit', 'whatsapp', 'telegram',
    'email', 'sms', 'native', 'copy_link', 'other')),
  content_type text not null,
  content_id text not null,
  url text not null,
  share_host text,
  referrer_host text,
  utm_source text,
  utm_medium text,
  utm_campaign text,
  utm_term text,
  utm_content text,
  session_id text not null,
  user_id uuid,
  ip_hash text,
  device text not null default 'unknown',
  browser text,
  os text,
  -- Who shared what where: identical shares within the window have the same key.
  dedup_key text not null
);

comment on table public.social_shares is
  'Counted social shares, one per sharer, content, URL and platform per dedup window.';

create index social_shares_dedup_key on public.social_shares (dedup_key, created_at desc);
create index social_shares_created_at on public.social_shares using brin (created_at);

-- ---------------------------------------------------------------------------------------
-- Pre-aggregates. analytics_rollups holds events and unique sessions per hour and per UTC day,
-- per event name; dimension '' is every event of that name, a non-empty dimension the events
-- of one share platform. analytics_rollup_sessions is the set that decides whether a session
-- is new to a bucket. Because ingest clamps timestamps to 24 h in the past, a bucket older
-- than two days can never change again, so its session set is pruned.
-- ---------------------------------------------------------------------------------------
create table public.analytics_rollups (
  granularity text not null check (granularity in ('hour', 'day')),
  dimension text not null,
  bucket timestamptz not null,
  event_name text not null,
  events bigint not null,
  sessions bigint not null,
  primary key (granularity, dimension, bucket, event_name)
);

create table public.analytics_rollup_sessions (
  granularity text not null,
  bucket timestamptz not null,
  event_name text not null,
  dimension text not null,
  session_id text not null,
  primary key (granularity, bucket, event_name, dimension, session_id)
);

-- Top content is asked for over days, so it is kept per UTC day only.
create table public.analytics_content_rollups (
  bucket timestamptz not null,
  event_name text not null,
  content_type text not null,
  content_id text not null,
  events bigint not null,
  primary key (event_name, bucket, content_type, content_id)
);

-- A session's first occurrence of each event: the funnel walks these by index, one probe
-- per session and step, instead of scanning raw events.
create table public.analytics_session_firsts (
  session_id text not null,
  event_name text not null,
  first_at timestamptz not null,
  primary key (session_id, event_name)
);

create index analytics_session_firsts_event on public.analytics_session_firsts (event_name, first_at)
  include (session_id);

-- A fresh random salt per UTC day, deleted after two days (see analytics_events.ip_hash).
create table public.analytics_salts (
  day date primary key,
  salt text not null
);

do $$
declare
  t text;
begin
  foreach t in array array['analytics_events', 'social_shares', 'analytics_rollups', 'analytics_rollup_sessions',
                           'analytics_content_rollups', 'analytics_session_firsts', 'analytics_salts'] loop
    execute format('alter table public.%I enable row level security', t);
    execute format('revoke all on public.%I from anon, authenticated', t);
    execute format('create policy "no api access" on public.%I for all to anon, authenticated using (false) with check (false)', t);
  end loop;
end;
$$;

-- Today's salt, created by whichever instance asks first; older than yesterday's is deleted.
create function public.analytics_salt(p_day date) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_salt text;
begin
  insert into public.analytics_salts (day, salt)
  values (p_day, replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))
  on conflict (day) do nothing;
  delete from public.analytics_salts where day < p_day - 1;
  select salt into v_salt from public.analytics_salts where day = p_day;
  return v_salt;
end;
$$;

-- Stores a batch of normalized events and folds the new ones into every rollup, in one
-- statement. Returns how many were new (the rest were duplicates by client event id).
-- p_batch holds what every event of a request shares (session_id, user_id, ip_hash, device,
-- browser, os): an event's own value wins where it has one. analytics-service sends those
-- once per batch and leaves null keys out, so the JSON Postgres parses is half the size
-- (57 → 28 KB for 100 events; parsing it took 0.9–1.1 → 0.45 ms of the statement).
-- Rollup rows are upserted in key order, so concurrent batches lock them in the same order
-- and cannot deadlock; a session is counted in a bucket by whichever batch inserts its set
-- row first. PL/pgSQL rather than SQL because it keeps the statement's plan between calls:
-- planning this statement takes about 2 ms, half of executing it for 100 events.
create function public.ingest_analytics_events(p_events jsonb, p_batch jsonb default '{}'::jsonb)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_inserted integer;
begin
  with input as (
    select e.client_event_id, e.event_name, e.custom, e.occurred_at,
      coalesce(e.session_id, b.session_id) as session_id, coalesce(e.user_id, b.user_id) as user_id,
      e.page_url, e.referrer_host, e.content_type, e.content_id, e.platform, e.utm_source, e.utm_medium,
      e.utm_campaign, e.utm_term, e.utm_content, coalesce(e.device, b.device) as device,
      coalesce(e.browser, b.browser) as browser, coalesce(e.os, b.os) as os,
      coalesce(e.ip_hash, b.ip_hash) as ip_hash, e.properties
    from jsonb_to_record(coalesce(p_batch, '{}'::jsonb)) as b(
      session_id text, user_id uuid, device text, browser text, os text, ip_hash text)
    cross join jsonb_to_recordset(p_events) as e(
      client_event_id uuid, event_name text, custom boolean, occurred_at timestamptz, session_id text,
      user_id uuid, page_url text, referrer_host text, content_type text, content_id text, platform text,
      utm_source text, utm_medium text, utm_campaign text, utm_term text, utm_content text,
      device text, browser text, os text, ip_hash text, properties jsonb)
  ),
  inserted as (
    insert into public.analytics_events (
      client_event_id, event_name, custom, occurred_at, session_id, user_id, page_url, referrer_host,
      content_type, content_id, platform, utm_source, utm_medium, utm_campaign, utm_term, utm_content,
      device, browser, os, ip_hash, properties)
    select client_event_id, event_name, coalesce(custom, false), occurred_at, session_id, user_id, page_url,
      referrer_host, content_type, content_id, platform, utm_source, utm_medium, utm_campaign, utm_term,
      utm_content, coalesce(device, 'unknown'), browser, os, ip_hash, coalesce(properties, '{}'::jsonb)
    from input
    on conflict (client_event_id) do nothing
    returning event_name, occurred_at, session_id, content_type, content_id, platform
  ),
  facts as (
    select g.granularity, pg_catalog.date_trunc(g.granularity, i.occurred_at, 'UTC') as bucket,
      i.event_name, d.dimension, i.session_id
    from inserted i
    cross join (values ('hour'), ('day')) as g(granularity)
    cross join lateral (values (''), (i.platform)) as d(dimension)
    where d.dimension is not null
  ),
  new_sessions as (
    insert into public.analytics_rollup_sessions (granularity, bucket, event_name, dimension, session_id)
    select distinct granularity, bucket, event_name, dimension, session_id from facts
    on conflict do nothing
    returning granularity, bucket, event_name, dimension
  ),
  rolled as (
    insert into public.analytics_rollups as r (granularity, dimension, bucket, event_name, events, sessions)
    select f.granularity, f.dimension, f.bucket, f.event_name, f.events, coalesce(n.sessions, 0)
    from (select granularity, dimension, bucket, event_name, count(*) as events
          from facts group by 1, 2, 3, 4) as f
    left join (select granularity, dimension, bucket, event_name, count(*) as sessions
               from new_sessions group by 1, 2, 3, 4) as n
      using (granularity, dimension, bucket, event_name)
    order by f.granularity, f.dimension, f.bucket, f.event_name
    on conflict (granularity, dimension, bucket, event_name) do update
      set events = r.events + excluded.events, sessions = r.sessions + excluded.sessions
    returning 1
  ),
  content as (
    insert into public.analytics_content_rollups as c (bucket, event_name, content_type, content_id, events)
    select pg_catalog.date_trunc('day', occurred_at, 'UTC'), event_name, content_type, content_id, count(*)
    from inserted
    where content_type is not null and content_id is not null
    group by 1, 2, 3, 4
    order by 2, 1, 3, 4
    on conflict (event_name, bucket, content_type, content_id) do update set events = c.events + excluded.events
    returning 1
  ),
  firsts as (
    insert into public.analytics_session_firsts as s (session_id, event_name, first_at)
    select session_id, event_name, min(occurred_at) from inserted group by 1, 2 order by 1, 2
    on conflict (session_id, event_name) do update set first_at = excluded.first_at
      where excluded.first_at < s.first_at
    returning 1
  )
  select count(*)::integer into v_inserted from inserted;
  return v_inserted;
end;
$$;

-- Records a share unless the same one was counted within p_window_seconds, and emits it as an
-- analytics event in the same transaction. The advisory lock serializes identical shares, so
-- two racing requests cannot both miss each other's row.
create function public.record_social_share(p_share jsonb, p_event jsonb, p_window_seconds integer)
returns table (id uuid, counted boolean, created_at timestamptz)
language plpgsql
set search_path = ''
as $$
declare
  v_key text := p_share ->> 'dedup_key';
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('social_share:' || v_key, 0));
  return query
    select s.id, false, s.created_at from public.social_shares s
    where s.dedup_key = v_key and s.created_at > now() - make_interval(secs => p_window_seconds)
    order by s.created_at desc limit 1;
  if found then
    return;
  end if;

  return query
    insert into public.social_shares as s (
      platform, content_type, content_id, url, share_host, referrer_host, utm_source, utm_medium,
      utm_campaign, utm_term, utm_content, session_id, user_id, ip_hash, device, browser, os, dedup_key)
    select platform, content_type, content_id, url, share_host, referrer_host, utm_source, utm_medium,
      utm_campaign, utm_term, utm_content, session_id, user_id, ip_hash, coalesce(device, 'unknown'), browser,
      os, dedup_key
    from jsonb_populate_record(null::public.social_shares, p_share)
    returning s.id, true, s.created_at;
  perform public.ingest_analytics_events(jsonb_build_array(p_event));
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Queries of the metrics API. Buckets are UTC; from is inclusive, to exclusive.
-- ---------------------------------------------------------------------------------------
create function public.analytics_event_counts(
  p_granularity text, p_from timestamptz, p_to timestamptz, p_events text[]
) returns table (bucket timestamptz, event_name text, events bigint, sessions bigint)
language sql
stable
set search_path = ''
as $$
  select r.bucket, r.event_name, r.events, r.sessions
  from public.analytics_rollups r
  where r.granularity = p_granularity and r.dimension = '' and r.bucket >= p_from and r.bucket < p_to
    and (p_events is null or r.event_name = any (p_events))
  order by r.bucket, r.event_name;
$$;

create function public.analytics_share_counts(p_granularity text, p_from timestamptz, p_to timestamptz)
returns table (platform text, shares bigint, sessions bigint)
language sql
stable
set search_path = ''
as $$
  select r.dimension, sum(r.events)::bigint, sum(r.sessions)::bigint
  from public.analytics_rollups r
  where r.granularity = p_granularity and r.event_name = 'share' and r.dimension <> ''
    and r.bucket >= p_from and r.bucket < p_to
  group by r.dimension
  order by 2 desc, 1;
$$;

create function public.analytics_top_content(
  p_event text, p_from timestamptz, p_to timestamptz, p_content_type text, p_limit integer
) returns table (content_type text, content_id text, events bigint)
language sql
stable
set search_path = ''
as $$
  select c.content_type, c.content_id, sum(c.events)::bigint
  from public.analytics_content_rollups c
  where c.event_name = p_event and c.bucket >= p_from and c.bucket < p_to
    and (p_content_type is null or c.content_type = p_content_type)
  group by c.content_type, c.content_id
  order by 3 desc, 1, 2
  limit p_limit;
$$;

-- Sessions whose first p_steps[1] falls in [p_from, p_to), then each next step's first
-- occurrence at or after the previous one's and before p_to. One join per step, so each step
-- is an index range scan hashed on session_id: a recursive walk probing the primary key once
-- per session and step took 700 ms for 3 steps over 50,000 sessions; this takes 48 ms.
create function public.analytics_funnel(p_steps text[], p_from timestamptz, p_to timestamptz)
returns table (step integer, sessions bigint)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_counts text := 'count(*)';
  v_joins text := '';
begin
  for i in 2 .. coalesce(pg_catalog.array_length(p_steps, 1), 0) loop
    v_counts := v_counts || format(', count(f%s.session_id)', i);
    -- The redundant lower bound lets the step's scan use the (event_name, first_at) index.
    v_joins := v_joins || format(
      ' left join public.analytics_session_firsts f%1$s on f%1$s.session_id = f%2$s.session_id'
      ' and f%1$s.event_name = $1[%1$s] and f%1$s.first_at >= f%2$s.first_at'
      ' and f%1$s.first_at >= $2 and f%1$s.first_at < $3', i, i - 1);
  end loop;
  return query execute format(
    'select c.step::integer, c.sessions from (select array[%s] as counts'
    ' from public.analytics_session_firsts f1%s'
    ' where f1.event_name = $1[1] and f1.first_at >= $2 and f1.first_at < $3) as t,'
    ' unnest(t.counts) with ordinality as c(sessions, step) order by c.step', v_counts, v_joins)
  using p_steps, p_from, p_to;
end;
$$;

-- Session sets of buckets that can no longer change, and rate-limit buckets idle for a day
-- (per-session and per-address buckets from the open internet would otherwise pile up).
create function public.prune_tracking_state() returns void
language sql
set search_path = ''
as $$
  delete from public.analytics_rollup_sessions where bucket < now() - interval '2 days';
  delete from public.rate_limit_buckets where updated_at < now() - interval '1 day';
$$;

create function public.schedule_tracking_prune() returns boolean
language sql
set search_path = ''
as $$ select public.schedule_sweep('tracking-prune', 'select public.prune_tracking_state()') $$;

select public.schedule_tracking_prune();

revoke execute on function public.analytics_salt(date), public.ingest_analytics_events(jsonb, jsonb),
  public.record_social_share(jsonb, jsonb, integer),
  public.analytics_event_counts(text, timestamptz, timestamptz, text[]),
  public.analytics_share_counts(text, timestamptz, timestamptz),
  public.analytics_top_content(text, timestamptz, timestamptz, text, integer),
  public.analytics_funnel(text[], timestamptz, timestamptz),
  public.prune_tracking_state(), public.schedule_tracking_prune()
  from public, anon, authenticated;
