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
-- deliveries that finished while the previous batch was being written (see queue.ts). Each is
-- recorded exactly as complete_webhook_attempt records one. Endpoints are locked in id order,
-- so two dispatchers' batches cannot deadlock on them.
create function public.complete_webhook_attempts(p_attempts jsonb)
returns table (delivery_id uuid, status text)
language plpgsql
set search_path = ''
as $$
declare
  r record;
begin
  for r in
    select a.*, d.endpoint_id
    from jsonb_to_recordset(p_attempts) as a(
      delivery_id uuid, outcome text, status_code integer, started_at timestamptz, duration_ms integer,
      response_body text, error text, retry_after_seconds integer, circuit_threshold integer)
    left join public.webhook_deliveries d on d.id = a.delivery_id
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
