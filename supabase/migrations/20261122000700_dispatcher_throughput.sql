-- The dispatcher's claim debited each endpoint's token bucket by counting what it had just
-- leased with "locked_by = worker and updated_at = now()", a predicate no index serves: every
-- claim scanned all pending deliveries. With 20,000 events x 5 endpoints pending
-- (BENCH_EVENTS=20000 npm run bench -- outbound), pg_stat_activity caught a claim on the CPU in
-- 176 of 200 samples (32 once fixed), and throughput went from 801 to 1,773 deliveries/s. The
-- claim now keeps the ids and per-endpoint counts it leased, and returns its rows by primary key.
--
-- (Recording successes with synchronous_commit off was measured too: 8% more, within the noise
-- of this machine, for a weaker crash story. Not done.)

create or replace function public.claim_webhook_deliveries(
  p_worker text,
  p_limit integer,
  p_lease_seconds integer,
  p_cooldown_seconds integer
) returns table (
  delivery_id uuid,
  attempt integer,
  event_id text,
  event_type text,
  payload text,
  endpoint_id uuid,
  url text,
  secret text,
  previous_secret text,
  legacy_signature boolean
)
language plpgsql
set search_path = ''
as $$
declare
  v_probes uuid[];
  v_budget jsonb;
  v_claimed uuid[];
  v_counts jsonb;
begin
  -- Endpoints ready for a probe: open past the cool-down, or half-open whose probe was lost
  -- with a crashed worker. Moving them to half_open here makes one claim own the probe.
  with ready as (
    select e.id from public.webhook_endpoints e
    where (e.circuit_state = 'open' and e.circuit_changed_at <= now() - make_interval(secs => p_cooldown_seconds))
       or (e.circuit_state = 'half_open' and e.circuit_changed_at <= now() - make_interval(secs => p_lease_seconds))
    for update skip locked
  ),
  moved as (
    update public.webhook_endpoints e set circuit_state = 'half_open', circuit_changed_at = now()
    from ready where e.id = ready.id
    returning e.id
  )
  select coalesce(array_agg(moved.id), '{}') into v_probes from moved;

  -- Each endpoint with due work gets as many deliveries as it has free in-flight slots and
  -- rate-limit tokens. Its token bucket is read under a row lock (the no-op upsert), so
  -- concurrent claims take turns spending it, and debited below for what was claimed: one
  -- bucket round trip per claim instead of one per delivery, and nothing is claimed only to
  -- be handed back for want of a token.
  with endpoints as (
    select e.id, e.rate_limit_per_minute / 60.0 as rate, e.rate_limit_burst as burst,
           case when e.id = any (v_probes) then 1
                else e.max_in_flight - (
                  select count(*)::integer from public.webhook_deliveries x
                  where x.endpoint_id = e.id and x.status = 'PENDING'
                    and x.locked_until is not null and x.locked_until >= now())
           end as room
    from public.webhook_endpoints e
    where e.active and e.disabled_at is null
      and (e.circuit_state = 'closed' or e.id = any (v_probes))
      and exists (
        select 1 from public.webhook_deliveries x
        where x.endpoint_id = e.id and x.status = 'PENDING' and x.next_attempt_at <= now()
          and (x.locked_until is null or x.locked_until < now()))
  ),
  buckets as (
    insert into public.rate_limit_buckets as b (key, tokens, updated_at)
    select 'webhook-endpoint:' || ep.id, ep.burst, clock_timestamp() from endpoints ep where ep.room > 0
    on conflict (key) do update set tokens = b.tokens
    returning b.key, b.tokens, b.updated_at
  ),
  available as (
    select ep.id, ep.room,
           least(ep.burst, bk.tokens + extract(epoch from clock_timestamp() - bk.updated_at) * ep.rate) as tokens
    from endpoints ep join buckets bk on bk.key = 'webhook-endpoint:' || ep.id
  )
  select coalesce(jsonb_object_agg(a.id, jsonb_build_object(
           'slots', greatest(0, least(a.room, floor(a.tokens)::integer)), 'tokens', a.tokens)), '{}'::jsonb)
  into v_budget
  from available a;

  -- Per endpoint, its first due deliveries up to its budget, read in index order; a first
  -- version ranked every due delivery with a window function and took 6.5 s to claim 32 of
  -- 10,000 pending, this one reads only what it claims.
  with endpoints as (
    select b.key::uuid as id, (b.value ->> 'slots')::integer as slots
    from jsonb_each(v_budget) b
  ),
  due as (
    select d.id, d.next_attempt_at
    from endpoints ep
    cross join lateral (
      select x.id, x.next_attempt_at from public.webhook_deliveries x
      where x.endpoint_id = ep.id and x.status = 'PENDING' and x.next_attempt_at <= now()
        and (x.locked_until is null or x.locked_until < now())
      order by x.next_attempt_at
      limit greatest(ep.slots, 0)
    ) d
    order by d.next_attempt_at
    limit p_limit
  ),
  picked as (
    select d.id from public.webhook_deliveries d
    where d.id in (select id from due)
    for update skip locked
  ),
  claimed as (
    update public.webhook_deliveries d set
      attempts = d.attempts + 1,
      locked_until = now() + make_interval(secs => p_lease_seconds),
      locked_by = p_worker,
      updated_at = now()
    from picked where d.id = picked.id
    returning d.id, d.endpoint_id
  )
  select coalesce(array_agg(c.id), '{}'),
         coalesce((select jsonb_object_agg(s.endpoint_id, s.n)
                   from (select cl.endpoint_id, count(*) as n from claimed cl group by cl.endpoint_id) s), '{}'::jsonb)
  into v_claimed, v_counts
  from claimed c;

  update public.rate_limit_buckets b set
    tokens = (v_budget -> s.key ->> 'tokens')::double precision - s.value::double precision,
    updated_at = clock_timestamp()
  from jsonb_each_text(v_counts) s
  where b.key = 'webhook-endpoint:' || s.key;

  return query
  select d.id, d.attempts, ev.id, ev.type,
         json_build_object(
           'id', ev.id, 'type', ev.type,
           'timestamp', to_char(ev.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
           'api_version', ev.api_version, 'tenant_id', ev.tenant_id, 'data', ev.data::json)::text,
         e.id, e.url, e.secret,
         case when e.previous_secret_expires_at > now() then e.previous_secret end,
         e.legacy_signature
  from public.webhook_deliveries d
  join public.outbound_events ev on ev.id = d.event_id
  join public.webhook_endpoints e on e.id = d.endpoint_id
  where d.id = any (v_claimed)
  order by d.next_attempt_at;
end;
$$;

-- Records a batch of attempts in one transaction: one commit, so one WAL flush, for all the
-- deliveries that finished while the previous batch was being written (see queue.ts).
-- Successes, the common case, take one statement each for the attempts, the deliveries and the
-- endpoints of the whole batch; after batching alone, the per-delivery PL/pgSQL completion was
-- still on the CPU in a third of the pg_stat_activity samples. complete_webhook_attempt keeps
-- the failure path (retries, circuit, exhaustion, disabling) and hands a success to this
-- function, so success is recorded in one place.
create function public.complete_webhook_attempts(p_attempts jsonb)
returns table (delivery_id uuid, status text)
language plpgsql
set search_path = ''
as $$
declare
  v_succeeded uuid[];
  r record;
begin
  -- Successes, the common case, take four statements for the whole batch.
  with input as (
    select a.*
    from jsonb_to_recordset(p_attempts) as a(
      delivery_id uuid, outcome text, status_code integer, started_at timestamptz, duration_ms integer,
      response_body text, error text, retry_after_seconds integer, circuit_threshold integer)
    where a.outcome = 'success'
  ),
  ok as (
    select d.id, d.endpoint_id, d.attempts, i.status_code, i.started_at, i.duration_ms, i.response_body, i.error
    from input i
    join public.webhook_deliveries d on d.id = i.delivery_id
    where d.status = 'PENDING'
    order by d.id
    for update of d
  ),
  logged as (
    insert into public.webhook_delivery_attempts (
      delivery_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome)
    select ok.id, ok.attempts, ok.started_at, ok.duration_ms, ok.status_code, left(ok.response_body, 2048),
           ok.error, 'success'
    from ok
  ),
  done as (
    update public.webhook_deliveries d set
      status = 'SUCCESS', locked_until = null, locked_by = null, last_status_code = ok.status_code,
      last_error = ok.error, completed_at = now(), updated_at = now()
    from ok where d.id = ok.id
    returning d.id, d.endpoint_id
  ),
  -- Every delivery to a partner completes against the same endpoint row. On success it is
  -- written only when its state changes (or last_success_at is a minute old), so a healthy
  -- endpoint's deliveries do not queue behind each other's row lock.
  healthy as (
    update public.webhook_endpoints e set
      consecutive_failures = 0, failing_since = null, last_success_at = now(),
      circuit_state = 'closed',
      circuit_changed_at = case when e.circuit_state <> 'closed' then now() else e.circuit_changed_at end,
      updated_at = now()
    where e.id in (select done.endpoint_id from done)
      and (e.consecutive_failures <> 0 or e.circuit_state <> 'closed' or e.failing_since is not null
           or e.last_success_at is null or e.last_success_at < now() - interval '1 minute')
  )
  select coalesce(array_agg(done.id), '{}') into v_succeeded from done;

  return query select unnest(v_succeeded), 'SUCCESS'::text;

  -- The rest one by one, endpoints in id order so two dispatchers' batches cannot deadlock.
  for r in
    select a.*, d.endpoint_id
    from jsonb_to_recordset(p_attempts) as a(
      delivery_id uuid, outcome text, status_code integer, started_at timestamptz, duration_ms integer,
      response_body text, error text, retry_after_seconds integer, circuit_threshold integer)
    left join public.webhook_deliveries d on d.id = a.delivery_id
    where a.delivery_id <> all (v_succeeded)
    order by d.endpoint_id, a.delivery_id
  loop
    delivery_id := r.delivery_id;
    status := public.complete_webhook_attempt(
      r.delivery_id, r.outcome, r.status_code, r.started_at, r.duration_ms, r.response_body, r.error,
      r.retry_after_seconds, r.circuit_threshold);
    return next;
  end loop;
end;
$$;

revoke execute on function public.complete_webhook_attempts(jsonb) from public, anon, authenticated;

create or replace function public.complete_webhook_attempt(
  p_delivery_id uuid,
  p_outcome text,
  p_status_code integer,
  p_started_at timestamptz,
  p_duration_ms integer,
  p_response_body text,
  p_error text,
  p_retry_after_seconds integer,
  p_circuit_threshold integer
) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_delivery public.webhook_deliveries;
  v_endpoint public.webhook_endpoints;
  v_event public.outbound_events;
  v_status text;
  v_failures integer;
begin
  select * into v_delivery from public.webhook_deliveries where id = p_delivery_id for update;
  if v_delivery.id is null or v_delivery.status <> 'PENDING' then
    return coalesce(v_delivery.status, 'MISSING');
  end if;

  -- A success is recorded by the batch function, which does it for many deliveries at once.
  if p_outcome = 'success' then
    return (
      select s.status from public.complete_webhook_attempts(jsonb_build_array(jsonb_build_object(
        'delivery_id', p_delivery_id, 'outcome', p_outcome, 'status_code', p_status_code,
        'started_at', p_started_at, 'duration_ms', p_duration_ms, 'response_body', p_response_body,
        'error', p_error, 'retry_after_seconds', p_retry_after_seconds,
        'circuit_threshold', p_circuit_threshold))) s);
  end if;

  insert into public.webhook_delivery_attempts (
    delivery_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome)
  values (p_delivery_id, v_delivery.attempts, p_started_at, p_duration_ms, p_status_code,
          left(p_response_body, 2048), p_error, p_outcome);

  v_status := case
    when p_outcome in ('failed', 'gone') then 'FAILED'
    when v_delivery.attempts >= 6 then 'RETRY_EXHAUSTED'
    else 'PENDING'
  end;

  update public.webhook_deliveries set
    status = v_status,
    -- (greatest() skips nulls, so the schedule applies only when there is no Retry-After.)
    next_attempt_at = case
      when v_status <> 'PENDING' then next_attempt_at
      when p_retry_after_seconds is null then now() + public.webhook_retry_delay(v_delivery.attempts)
      else now() + make_interval(secs => least(greatest(p_retry_after_seconds, 1), 86400))
    end,
    locked_until = null,
    locked_by = null,
    last_status_code = p_status_code,
    last_error = p_error,
    completed_at = case when v_status <> 'PENDING' then now() end,
    updated_at = now()
  where id = p_delivery_id;

  select * into v_endpoint from public.webhook_endpoints where id = v_delivery.endpoint_id for update;
  select * into v_event from public.outbound_events where id = v_delivery.event_id;

  v_failures := v_endpoint.consecutive_failures + 1;
  update public.webhook_endpoints set
    consecutive_failures = v_failures,
    failing_since = coalesce(failing_since, now()),
    circuit_state = case when circuit_state = 'half_open' or v_failures >= p_circuit_threshold then 'open'
                         else circuit_state end,
    circuit_changed_at = case when circuit_state = 'half_open' or v_failures >= p_circuit_threshold then now()
                              else circuit_changed_at end,
    updated_at = now()
  where id = v_endpoint.id;

  if v_status = 'RETRY_EXHAUSTED' and v_event.type not in ('message.attempt.exhausted', 'endpoint.disabled') then
    perform public.publish_event('message.attempt.exhausted', v_endpoint.tenant_id, jsonb_build_object(
      'endpoint_id', v_endpoint.id, 'delivery_id', p_delivery_id, 'event_id', v_event.id,
      'event_type', v_event.type, 'attempts', v_delivery.attempts, 'last_status_code', p_status_code,
      'last_error', p_error));
  end if;

  if v_endpoint.disabled_at is null and (
       p_outcome = 'gone'
       or coalesce(v_endpoint.failing_since, now()) <= now() - interval '5 days') then
    update public.webhook_endpoints set
      active = false,
      disabled_at = now(),
      disabled_reason = case when p_outcome = 'gone' then 'endpoint answered 410 Gone'
                             else 'no successful delivery for 5 days' end,
      updated_at = now()
    where id = v_endpoint.id;
    perform public.publish_event('endpoint.disabled', v_endpoint.tenant_id, jsonb_build_object(
      'endpoint_id', v_endpoint.id, 'url', v_endpoint.url,
      'reason', case when p_outcome = 'gone' then 'gone' else 'failing' end));
  end if;
  return v_status;
end;
$$;
