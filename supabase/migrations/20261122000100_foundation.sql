-- Shared infrastructure for every function: security events, idempotency keys and rate-limit
-- buckets. All three are written only by the functions (service connection), so RLS is on,
-- the API roles' grants are revoked, and an explicit deny policy states that intent (it also
-- keeps `supabase db advisors` free of rls_enabled_no_policy).

-- ---------------------------------------------------------------------------------------
-- security_events: one row per signature failure, replay, rate-limit hit, oversized or
-- malformed payload, and the security_alert raised when one source bursts.
-- ---------------------------------------------------------------------------------------
create table public.security_events (
  id bigint generated always as identity primary key,
  created_at timestamptz not null default now(),
  kind text not null check (kind ~ '^[a-z][a-z0-9_]*$'),
  severity text not null check (severity in ('info', 'warning', 'critical')),
  source text not null,
  function_name text,
  request_id text,
  details jsonb not null default '{}'::jsonb
);

comment on table public.security_events is
  'Security-relevant request outcomes, already redacted by the securityLogger.';

-- The burst check counts one source's recent rows on every insert; this index keeps that
-- an index range scan however large the table grows.
create index security_events_source_recent on public.security_events (source, created_at desc);

alter table public.security_events enable row level security;
revoke all on public.security_events from anon, authenticated;
create policy "no api access" on public.security_events for all to anon, authenticated using (false) with check (false);

-- Records one event and, when the source has produced more than p_threshold events within
-- p_window_seconds, one security_alert for that window. The advisory lock makes concurrent
-- instances agree on a single alert per burst instead of one per racing request.
create function public.record_security_event(
  p_kind text,
  p_severity text,
  p_source text,
  p_function_name text,
  p_request_id text,
  p_details jsonb,
  p_threshold integer,
  p_window_seconds integer
) returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_recent integer;
begin
  insert into public.security_events (kind, severity, source, function_name, request_id, details)
  values (p_kind, p_severity, p_source, p_function_name, p_request_id, coalesce(p_details, '{}'::jsonb));

  select count(*) into v_recent
  from public.security_events
  where source = p_source
    and kind <> 'security_alert'
    and created_at > now() - make_interval(secs => p_window_seconds);

  if v_recent <= p_threshold then
    return false;
  end if;

  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('security_alert:' || p_source, 0));
  if exists (
    select 1 from public.security_events
    where source = p_source and kind = 'security_alert'
      and created_at > now() - make_interval(secs => p_window_seconds)
  ) then
    return false;
  end if;

  insert into public.security_events (kind, severity, source, function_name, request_id, details)
  values ('security_alert', 'critical', p_source, p_function_name, p_request_id,
          jsonb_build_object('failures', v_recent, 'window_seconds', p_window_seconds,
                             'threshold', p_threshold, 'last_kind', p_kind));
  return true;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- idempotency_keys: Idempotency-Key requests (and provider event ids where a function has no
-- event table of its own). A key is claimed atomically, replayed while it lives, and may be
-- claimed again once expired.
-- ---------------------------------------------------------------------------------------
create table public.idempotency_keys (
  scope text not null,
  key text not null check (length(key) between 1 and 255),
  request_hash text not null,
  status text not null check (status in ('in_flight', 'completed')),
  response_status integer,
  response_body jsonb,
  locked_until timestamptz not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (scope, key)
);

create index idempotency_keys_expires_at on public.idempotency_keys (expires_at);

alter table public.idempotency_keys enable row level security;
revoke all on public.idempotency_keys from anon, authenticated;
create policy "no api access" on public.idempotency_keys for all to anon, authenticated using (false) with check (false);

-- Outcomes: 'claimed' (caller does the work), 'replay' (stored response returned),
-- 'in_flight' (409), 'mismatch' (422). An in-flight key whose lock lapsed belongs to a
-- crashed caller; the same request may take it over, a different one may not.
create function public.idempotency_claim(
  p_scope text,
  p_key text,
  p_request_hash text,
  p_lock_seconds integer,
  p_ttl_seconds integer
) returns table (outcome text, response_status integer, response_body jsonb)
language plpgsql
set search_path = ''
as $$
declare
  v_row public.idempotency_keys;
begin
  insert into public.idempotency_keys as k
    (scope, key, request_hash, status, locked_until, expires_at)
  values
    (p_scope, p_key, p_request_hash, 'in_flight',
     now() + make_interval(secs => p_lock_seconds), now() + make_interval(secs => p_ttl_seconds))
  on conflict (scope, key) do update
    set request_hash = excluded.request_hash,
        status = 'in_flight',
        response_status = null,
        response_body = null,
        locked_until = excluded.locked_until,
        created_at = now(),
        expires_at = excluded.expires_at
    where k.expires_at <= now()
       or (k.status = 'in_flight' and k.locked_until <= now() and k.request_hash = excluded.request_hash)
  returning k.* into v_row;

  if found then
    return query select 'claimed'::text, null::integer, null::jsonb;
    return;
  end if;

  select * into v_row from public.idempotency_keys k where k.scope = p_scope and k.key = p_key;
  if v_row.request_hash <> p_request_hash then
    return query select 'mismatch'::text, null::integer, null::jsonb;
  elsif v_row.status = 'completed' then
    return query select 'replay'::text, v_row.response_status, v_row.response_body;
  else
    return query select 'in_flight'::text, null::integer, null::jsonb;
  end if;
end;
$$;

create function public.idempotency_complete(
  p_scope text,
  p_key text,
  p_response_status integer,
  p_response_body jsonb
) returns void
language sql
set search_path = ''
as $$
  update public.idempotency_keys
  set status = 'completed', response_status = p_response_status, response_body = p_response_body
  where scope = p_scope and key = p_key;
$$;

-- A failed attempt gives its key back, so the client's retry is processed rather than
-- answered with a stored error.
create function public.idempotency_release(p_scope text, p_key text) returns void
language sql
set search_path = ''
as $$
  delete from public.idempotency_keys where scope = p_scope and key = p_key and status = 'in_flight';
$$;

create function public.idempotency_purge_expired() returns integer
language sql
set search_path = ''
as $$
  with gone as (delete from public.idempotency_keys where expires_at <= now() returning 1)
  select count(*)::integer from gone;
$$;

-- ---------------------------------------------------------------------------------------
-- rate_limit_buckets: token buckets shared by every function instance, so a limit holds no
-- matter how many isolates serve the traffic.
-- ---------------------------------------------------------------------------------------
create table public.rate_limit_buckets (
  key text primary key,
  tokens double precision not null,
  updated_at timestamptz not null
);

alter table public.rate_limit_buckets enable row level security;
revoke all on public.rate_limit_buckets from anon, authenticated;
create policy "no api access" on public.rate_limit_buckets for all to anon, authenticated using (false) with check (false);

-- One upsert per request: refill by elapsed time, then take p_cost tokens if there are
-- enough. A refused request takes nothing, so a client that backs off is not starved.
create function public.take_rate_limit_token(
  p_key text,
  p_rate_per_second double precision,
  p_burst double precision,
  p_cost double precision default 1
) returns table (allowed boolean, retry_after_seconds double precision)
language plpgsql
set search_path = ''
as $$
declare
  v_before double precision;
  v_tokens double precision;
begin
  insert into public.rate_limit_buckets as b (key, tokens, updated_at)
  values (p_key, p_burst, clock_timestamp())
  on conflict (key) do update
    set tokens = least(p_burst,
                       b.tokens + extract(epoch from clock_timestamp() - b.updated_at) * p_rate_per_second),
        updated_at = clock_timestamp()
  returning b.tokens into v_before;

  if v_before >= p_cost then
    update public.rate_limit_buckets set tokens = v_before - p_cost where key = p_key
    returning tokens into v_tokens;
    return query select true, 0::double precision;
  else
    return query select false, (p_cost - v_before) / p_rate_per_second;
  end if;
end;
$$;

revoke execute on function public.record_security_event(text, text, text, text, text, jsonb, integer, integer),
  public.idempotency_claim(text, text, text, integer, integer),
  public.idempotency_complete(text, text, integer, jsonb),
  public.idempotency_release(text, text),
  public.idempotency_purge_expired(),
  public.take_rate_limit_token(text, double precision, double precision, double precision)
  from public, anon, authenticated;
