-- Outbound partner webhooks. publish_event writes an event and, in the same transaction, one
-- webhook_deliveries row per subscribed active endpoint (transactional outbox): an event
-- exists exactly when its deliveries do. webhook-dispatcher claims due deliveries with SKIP
-- LOCKED and a lease (claim_webhook_deliveries), signs them per Standard Webhooks, sends them,
-- and hands back what each partner answered, in batches. complete_webhook_deliveries logs
-- every attempt and decides what follows by the delivery policy below: success, a retry,
-- failure, exhaustion, the circuit breaker, disabling and the operational events.

-- ---------------------------------------------------------------------------------------
-- Delivery policy: the one place its numbers and status classes are written. The completion,
-- the attempt log's size check and the dispatcher (which reads response_body_limit once per
-- dispatch) all take them from here; the README's "Delivery" section describes them.
-- webhook_delivery_policy() is immutable and takes no arguments, so the planner folds a call
-- into a constant: reading the policy costs nothing per delivery. Both are PL/pgSQL, which
-- keeps its plans for the session: as a SQL function (never inlined with search_path set)
-- webhook_attempt_outcome was parsed and planned again by every statement that called it,
-- 0.15 ms of a 1.7 ms completion of 32 deliveries.
-- ---------------------------------------------------------------------------------------
create type public.webhook_delivery_policy as (
  retry_delays_seconds integer[],
  max_attempts integer,
  jitter double precision,
  retry_after_max_seconds integer,
  circuit_threshold integer,
  disable_after interval,
  response_body_limit integer
);

create function public.webhook_delivery_policy() returns public.webhook_delivery_policy
language plpgsql immutable
set search_path = ''
as $$
declare
  -- The first attempt goes out at once, then retries after 5 min, 30 min, 2 h, 12 h and 24 h.
  c_delays constant integer[] := array[300, 1800, 7200, 43200, 86400];
begin
  return row(
    -- retry_delays_seconds
    c_delays,
    -- max_attempts: the first one and one per delay; after the last, RETRY_EXHAUSTED.
    cardinality(c_delays) + 1,
    -- jitter: each delay ±20% at random, so endpoints that failed together do not retry together.
    0.2,
    -- retry_after_max_seconds: a partner's Retry-After replaces the delay, up to 24 h.
    86400,
    -- circuit_threshold: consecutive failures that open an endpoint's circuit, unless the
    -- dispatcher's WEBHOOK_CIRCUIT_THRESHOLD says otherwise.
    5,
    -- disable_after: an endpoint with nothing but failures for this long is disabled.
    interval '5 days',
    -- response_body_limit: how much of a partner's answer the attempt log keeps (characters;
    -- the dispatcher reads as many bytes, and no more).
    2048
  )::public.webhook_delivery_policy;
end;
$$;

-- What an answer means, in the outbound contract's terms: 'success'; 'retry'; 'failed', for
-- good; 'gone', failed and the endpoint disabled. p_status_code is null when no answer came
-- (timeout, network error, a name that does not resolve yet); p_refused when the SSRF guard
-- refused the address, which never becomes deliverable.
create function public.webhook_attempt_outcome(p_status_code integer, p_refused boolean) returns text
language plpgsql immutable
set search_path = ''
as $$
begin
  return case
    when p_refused then 'failed'
    when p_status_code is null then 'retry'
    when p_status_code between 200 and 299 then 'success'
    when p_status_code = 410 then 'gone'
    -- A 3xx is an answer to retry, never followed: the SSRF guard never saw the other host.
    when p_status_code between 300 and 399 or p_status_code in (408, 429) or p_status_code >= 500 then 'retry'
    else 'failed'
  end;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------
create table public.webhook_endpoints (
  id uuid primary key default gen_random_uuid(),
  -- null: a platform endpoint, which receives every tenant's events (operators).
  tenant_id uuid,
  url text not null check (length(url) <= 2048),
  description text check (length(description) <= 500),
  event_types text[] not null default '{*}'
    check (cardinality(event_types) between 1 and 100),
  active boolean not null default true,
  -- Standard Webhooks secrets (whsec_ + base64). The previous one keeps signing alongside
  -- the new one until it expires, so receivers can roll without missing a delivery.
  secret text not null check (secret ~ '^whsec_[A-Za-z0-9+/=]{24,}$'),
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- Older receivers: also send X-Webhook-Signature, the hex HMAC-SHA256 of the raw body.
  legacy_signature boolean not null default false,
  rate_limit_per_minute integer not null default 100 check (rate_limit_per_minute between 1 and 100000),
  rate_limit_burst integer not null default 250 check (rate_limit_burst between 1 and 100000),
  max_in_flight integer not null default 10 check (max_in_flight between 1 and 1000),
  circuit_state text not null default 'closed' check (circuit_state in ('closed', 'open', 'half_open')),
  circuit_changed_at timestamptz,
  consecutive_failures integer not null default 0,
  -- First failure of the current run of nothing but failures; 5 days of it disables.
  failing_since timestamptz,
  last_success_at timestamptz,
  disabled_at timestamptz,
  disabled_reason text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index webhook_endpoints_tenant on public.webhook_endpoints (tenant_id);

create table public.outbound_events (
  id text primary key default ('evt_' || replace(gen_random_uuid()::text, '-', '')),
  type text not null check (type ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'),
  tenant_id uuid,
  api_version text not null,
  data jsonb not null,
  created_at timestamptz not null default now()
);

create index outbound_events_tenant_created on public.outbound_events (tenant_id, created_at desc);

create table public.webhook_deliveries (
  id uuid primary key default gen_random_uuid(),
  event_id text not null references public.outbound_events (id),
  endpoint_id uuid not null references public.webhook_endpoints (id) on delete cascade,
  tenant_id uuid,
  status text not null default 'PENDING' check (status in ('PENDING', 'SUCCESS', 'FAILED', 'RETRY_EXHAUSTED')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_until timestamptz,
  locked_by text,
  last_status_code integer,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (event_id, endpoint_id)
);

-- The dispatcher's claim reads only pending rows, by due time per endpoint. There is no index
-- on due time alone: given one, the planner read each endpoint's next deliveries through it
-- (it rates the per-endpoint index worse for its heap order), skipping every other endpoint's
-- rows; a claim of 32 with 10,000 x 5 pending took 4.1 ms instead of 2.1.
create index webhook_deliveries_endpoint_pending on public.webhook_deliveries (endpoint_id, next_attempt_at)
  where status = 'PENDING';
create index webhook_deliveries_endpoint_created on public.webhook_deliveries (endpoint_id, created_at desc);
-- Deliveries in flight per endpoint, for its concurrency cap: only leased rows, so it stays tiny.
create index webhook_deliveries_in_flight on public.webhook_deliveries (endpoint_id)
  where status = 'PENDING' and locked_until is not null;

create table public.webhook_delivery_attempts (
  id bigint generated always as identity primary key,
  delivery_id uuid not null references public.webhook_deliveries (id) on delete cascade,
  attempt integer not null,
  started_at timestamptz not null,
  duration_ms integer not null,
  status_code integer,
  -- The start of what the receiver answered: enough to debug, bounded in size.
  response_body text check (length(response_body) <= (public.webhook_delivery_policy()).response_body_limit),
  error text,
  outcome text not null check (outcome in ('success', 'retry', 'failed', 'gone'))
);

create index webhook_delivery_attempts_delivery on public.webhook_delivery_attempts (delivery_id, attempt);

alter table public.webhook_endpoints enable row level security;
alter table public.outbound_events enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_delivery_attempts enable row level security;
revoke all on public.webhook_endpoints, public.outbound_events, public.webhook_deliveries,
  public.webhook_delivery_attempts from anon, authenticated;
create policy "no api access" on public.webhook_endpoints for all to anon, authenticated using (false) with check (false);
create policy "no api access" on public.outbound_events for all to anon, authenticated using (false) with check (false);
create policy "no api access" on public.webhook_deliveries for all to anon, authenticated using (false) with check (false);
create policy "no api access" on public.webhook_delivery_attempts for all to anon, authenticated using (false) with check (false);

-- Orders may belong to a tenant; their events carry it.
alter table public.orders add column tenant_id uuid;

-- ---------------------------------------------------------------------------------------
-- Publishing
-- ---------------------------------------------------------------------------------------
-- The version of the envelope and event schemas partners receive (see the README catalogue).
create function public.webhook_api_version() returns text
language sql immutable
set search_path = ''
as $$ select '2026-11-22' $$;

-- True when an endpoint's subscription list covers p_type: '*', the exact type, or a prefix
-- wildcard such as 'order.*'.
create function public.webhook_subscribes(p_event_types text[], p_type text) returns boolean
language sql immutable
set search_path = ''
as $$
  select exists (
    select 1 from unnest(p_event_types) t
    -- Compared by prefix, not LIKE: an '_' in a type is a character, not a wildcard.
    where t = '*' or t = p_type or (right(t, 2) = '.*' and left(p_type, length(t) - 1) = left(t, -1))
  )
$$;

-- Writes an event and its deliveries in the caller's transaction; returns the event id, or
-- null when no active endpoint subscribes (nothing is stored: every order change publishes,
-- and the Stripe hot path should not pay three inserts for events nobody receives). An
-- endpoint of a tenant receives that tenant's events; a platform endpoint (no tenant)
-- receives all. Callable by the service role for domain tables without a trigger.
create function public.publish_event(p_type text, p_tenant_id uuid, p_data jsonb) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_id text;
begin
  if not exists (
    select 1 from public.webhook_endpoints e
    where e.active and e.disabled_at is null
      and (e.tenant_id is null or e.tenant_id = p_tenant_id)
      and public.webhook_subscribes(e.event_types, p_type)
  ) then
    return null;
  end if;
  insert into public.outbound_events (type, tenant_id, api_version, data)
  values (p_type, p_tenant_id, public.webhook_api_version(), jsonb_build_object('object', coalesce(p_data, '{}'::jsonb)))
  returning id into v_id;

  insert into public.webhook_deliveries (event_id, endpoint_id, tenant_id)
  select v_id, e.id, e.tenant_id
  from public.webhook_endpoints e
  where e.active and e.disabled_at is null
    and (e.tenant_id is null or e.tenant_id = p_tenant_id)
    and public.webhook_subscribes(e.event_types, p_type);
  return v_id;
end;
$$;

-- Domain events of orders. order.updated accompanies every change; the specific events say
-- what the change meant. Same transaction as the change, so no event is ever missed.
create function public.publish_order_events() returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_order jsonb;
begin
  -- Every Stripe event that touches an order passes here: with no endpoint at all, skip
  -- building the payload. (publish_event still checks each type's subscribers.)
  if not exists (select 1 from public.webhook_endpoints e where e.active and e.disabled_at is null) then
    return null;
  end if;
  v_order := to_jsonb(new) - 'status_event_id' - 'status_event_at';
  if tg_op = 'INSERT' then
    perform public.publish_event('order.created', new.tenant_id, v_order);
    return null;
  end if;
  if new is not distinct from old then
    return null;
  end if;
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

create trigger orders_publish_events after insert or update on public.orders
  for each row execute function public.publish_order_events();

-- ---------------------------------------------------------------------------------------
-- Wake-ups, as for email: NOTIFY locally, pg_net per statement and a pg_cron sweep on Supabase.
-- ---------------------------------------------------------------------------------------
create function public.wake_webhook_dispatcher() returns void
language sql
set search_path = ''
as $$ select public.wake_worker('webhook_deliveries', 'webhook_dispatcher_url', 'webhook_wakeup_secret', 'dispatch') $$;

create trigger webhook_deliveries_wake after insert on public.webhook_deliveries
  for each statement execute function public.wake_worker_after_insert(
    'webhook_deliveries', 'webhook_dispatcher_url', 'webhook_wakeup_secret', 'dispatch');

create function public.schedule_webhook_sweep() returns boolean
language sql
set search_path = ''
as $$ select public.schedule_sweep('webhook-deliveries-sweep', 'select public.wake_webhook_dispatcher()') $$;

select public.schedule_webhook_sweep();

-- ---------------------------------------------------------------------------------------
-- Dispatching
-- ---------------------------------------------------------------------------------------
-- Claims up to p_limit due deliveries for p_worker, respecting each endpoint's circuit and
-- its cap on deliveries in flight. An open circuit whose cool-down has passed lets exactly
-- one delivery through (half-open probe); deliveries behind an open circuit simply wait.
create function public.claim_webhook_deliveries(
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
  v_tokens jsonb;
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
  -- rate-limit tokens. Its token bucket is read under a row lock (the no-op upsert, in
  -- endpoint order so that two claims cannot deadlock), so concurrent claims take turns
  -- spending it, and debited below for what was claimed: one bucket round trip per claim
  -- instead of one per delivery, and nothing is claimed only to be handed back for want of a
  -- token. The deliveries in flight are counted by the next statement, whose snapshot is
  -- taken once the locks are held: counted in this one, a claim that had waited for another
  -- claim's lock would not see the deliveries it leased, and together they would exceed the
  -- endpoint's cap.
  with endpoints as (
    select e.id, e.rate_limit_per_minute / 60.0 as rate, e.rate_limit_burst as burst
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
    select 'webhook-endpoint:' || ep.id, ep.burst, clock_timestamp() from endpoints ep order by ep.id
    on conflict (key) do update set tokens = b.tokens
    returning b.key, b.tokens, b.updated_at
  )
  select coalesce(jsonb_object_agg(ep.id,
           least(ep.burst, bk.tokens + extract(epoch from clock_timestamp() - bk.updated_at) * ep.rate)), '{}'::jsonb)
  into v_tokens
  from endpoints ep join buckets bk on bk.key = 'webhook-endpoint:' || ep.id;

  select coalesce(jsonb_object_agg(a.id, jsonb_build_object(
           'slots', greatest(0, least(a.room, floor(a.tokens)::integer)), 'tokens', a.tokens)), '{}'::jsonb)
  into v_budget
  from (
    select e.id, t.value::double precision as tokens,
           case when e.id = any (v_probes) then 1
                else e.max_in_flight - (
                  select count(*)::integer from public.webhook_deliveries x
                  where x.endpoint_id = e.id and x.status = 'PENDING'
                    and x.locked_until is not null and x.locked_until >= now())
           end as room
    from jsonb_each_text(v_tokens) t
    join public.webhook_endpoints e on e.id = t.key::uuid
  ) a;

  -- Per endpoint, its first due deliveries up to its budget, read in index order; a first
  -- version ranked every due delivery with a window function and took 6.5 s to claim 32 of
  -- 10,000 pending, this one reads only what it claims (and numbers only those). The claim
  -- takes the endpoints in turns, each one's oldest first, then each one's second, so a
  -- partner with a deep backlog cannot take the whole claim from the others: ordered by due
  -- time alone, 10,000 events x 5 endpoints published together went to the first endpoints
  -- first, and the last one, left alone at its cap, ran at 3,000 deliveries/s against 5,800
  -- while all five were served (npm run bench -- outbound: 0.51 to 0.52 of raw signed POSTs,
  -- 4,465 to 5,461/s in one back-to-back pair). It keeps the ids and per-endpoint
  -- counts it leased: finding them again by "locked_by = worker and updated_at = now()", which
  -- no index serves, scanned every pending delivery on each claim. With 20,000 events x 5
  -- endpoints pending (BENCH_EVENTS=20000 npm run bench -- outbound) that claim was on the CPU
  -- in 176 of 200 pg_stat_activity samples (32 after), and throughput went from 801 to 1,773
  -- deliveries/s.
  with endpoints as (
    select b.key::uuid as id, (b.value ->> 'slots')::integer as slots
    from jsonb_each(v_budget) b
  ),
  due as (
    select d.id, d.next_attempt_at
    from endpoints ep
    cross join lateral (
      select f.id, f.next_attempt_at, row_number() over (order by f.next_attempt_at, f.id) as turn
      from (
        select x.id, x.next_attempt_at from public.webhook_deliveries x
        where x.endpoint_id = ep.id and x.status = 'PENDING' and x.next_attempt_at <= now()
          and (x.locked_until is null or x.locked_until < now())
        order by x.next_attempt_at
        limit greatest(ep.slots, 0)
      ) f
    ) d
    order by d.turn, d.next_attempt_at
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

-- Records a batch of attempts and decides what follows each, in one transaction: one commit,
-- so one WAL flush, for all the deliveries that finished while the previous batch was being
-- written (see webhook-dispatcher/queue.ts). Every outcome takes the same path, one statement
-- per step for the whole batch: completing delivery by delivery in PL/pgSQL was still on the
-- CPU in a third of the pg_stat_activity samples after batching. (Recording with
-- synchronous_commit off was measured too: 8% more, within the noise of this machine, for a
-- weaker crash story. Not done.)
--
-- p_attempts: [{delivery_id, status_code, refused, started_at, duration_ms, response_body,
-- error, retry_after_seconds, circuit_threshold}], as attemptSchema in
-- webhook-dispatcher/queue.ts describes. webhook_attempt_outcome classifies each; a retry
-- waits the schedule's delay, or Retry-After when given (at least a second). A success closes
-- its endpoint's circuit and ends its run of failures; each failure counts towards the circuit
-- threshold (the attempt's own when given, else the policy's), and a failed half-open probe
-- opens the circuit again. An endpoint that answered 410, or whose failures have run for
-- disable_after, is disabled. message.attempt.exhausted and endpoint.disabled go out through
-- the outbox like any event. Returns every delivery's status afterwards: its current one when
-- it was no longer pending (another worker, a replay), MISSING when there is no such delivery.
create function public.complete_webhook_deliveries(p_attempts jsonb)
returns table (delivery_id uuid, status text)
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
  v_statuses text[];
  v_disabled uuid[];
  v_gone boolean[];
begin
  -- One statement: deliveries are locked in id order, then their endpoints in theirs, so two
  -- dispatchers' batches cannot deadlock.
  with policy as (
    select * from public.webhook_delivery_policy()
  ),
  input as (
    select a.*, public.webhook_attempt_outcome(a.status_code, a.refused) as outcome
    from jsonb_to_recordset(p_attempts) as a(
      delivery_id uuid, status_code integer, refused boolean, started_at timestamptz, duration_ms integer,
      response_body text, error text, retry_after_seconds integer, circuit_threshold integer)
  ),
  -- By primary key alone, and whether still pending is asked of the locked row: planned as a
  -- join on "status = 'PENDING'", a batch of 32 (estimated at 100) was matched against every
  -- pending delivery, 9 of a 10 ms completion with 50,000 pending.
  locked as (
    select i.*, d.endpoint_id, d.attempts, d.status as current_status
    from input i
    join public.webhook_deliveries d on d.id = i.delivery_id
    where d.id = any (array(select x.delivery_id from input x))
    order by d.id
    for update of d
  ),
  settled as (
    select l.*, p.circuit_threshold as policy_threshold, p.disable_after,
           left(l.response_body, p.response_body_limit) as kept_body,
           case
             when l.outcome = 'success' then 'SUCCESS'
             when l.outcome in ('failed', 'gone') then 'FAILED'
             when l.attempts >= p.max_attempts then 'RETRY_EXHAUSTED'
             else 'PENDING'
           end as next_status,
           case
             when l.retry_after_seconds is not null
               then make_interval(secs => least(greatest(l.retry_after_seconds, 1), p.retry_after_max_seconds))
             else make_interval(secs => p.retry_delays_seconds[l.attempts] * (1 - p.jitter + random() * 2 * p.jitter))
           end as retry_in
    from locked l cross join policy p
    where l.current_status = 'PENDING'
  ),
  logged as (
    insert into public.webhook_delivery_attempts (
      delivery_id, attempt, started_at, duration_ms, status_code, response_body, error, outcome)
    select s.delivery_id, s.attempts, s.started_at, s.duration_ms, s.status_code, s.kept_body, s.error, s.outcome
    from settled s
  ),
  updated as (
    update public.webhook_deliveries d set
      status = s.next_status,
      next_attempt_at = case when s.next_status = 'PENDING' then now() + s.retry_in else d.next_attempt_at end,
      locked_until = null,
      locked_by = null,
      last_status_code = s.status_code,
      last_error = s.error,
      completed_at = case when s.next_status <> 'PENDING' then now() end,
      updated_at = now()
    from settled s
    where d.id = s.delivery_id
    returning d.id, d.status, d.endpoint_id, s.outcome, coalesce(s.circuit_threshold, s.policy_threshold) as threshold,
              s.disable_after
  ),
  -- Every delivery to a partner completes against the same endpoint row. A batch of successes
  -- writes it only when that changes its state (or last_success_at is a minute old), so a
  -- healthy endpoint's deliveries do not queue behind each other's row lock. Successes count
  -- first: one in the batch ends the run of failures before the batch's failures are counted.
  batch as (
    select u.endpoint_id,
           count(*) filter (where u.outcome = 'success') as succeeded,
           count(*) filter (where u.outcome <> 'success') as failed,
           bool_or(u.outcome = 'gone') as gone,
           min(u.threshold) as threshold,
           min(u.disable_after) as disable_after
    from updated u
    group by u.endpoint_id
  ),
  endpoints as materialized (
    select e.id, e.consecutive_failures, e.failing_since, e.circuit_state, e.disabled_at,
           b.succeeded, b.failed, b.gone, b.threshold, b.disable_after
    from public.webhook_endpoints e
    join batch b on b.endpoint_id = e.id
    where b.failed > 0 or e.consecutive_failures <> 0 or e.circuit_state <> 'closed' or e.failing_since is not null
       or e.last_success_at is null or e.last_success_at < now() - interval '1 minute'
    order by e.id
    for update of e
  ),
  counted as (
    select x.*,
           case when x.succeeded > 0 then 0 else x.consecutive_failures end + x.failed as failures,
           case when x.succeeded > 0 then 'closed' else x.circuit_state end as state
    from endpoints x
  ),
  decided as (
    select c.id, c.failures, c.state, c.succeeded, c.gone, c.disable_after,
           -- A failed half-open probe opens the circuit again, and so does the threshold.
           c.failed > 0 and (c.state = 'half_open' or c.failures >= c.threshold) as opens,
           case when c.failed = 0 then null
                when c.succeeded > 0 then now()
                else coalesce(c.failing_since, now()) end as failing_since,
           coalesce(c.disabled_at is null and c.failed > 0
                    and (c.gone or (c.succeeded = 0 and c.failing_since <= now() - c.disable_after)),
                    false) as disable
    from counted c
  ),
  changed as (
    update public.webhook_endpoints e set
      consecutive_failures = x.failures,
      failing_since = x.failing_since,
      last_success_at = case when x.succeeded > 0 then now() else e.last_success_at end,
      circuit_state = case when x.opens then 'open' else x.state end,
      circuit_changed_at = case when x.opens or x.state <> e.circuit_state then now() else e.circuit_changed_at end,
      active = e.active and not x.disable,
      disabled_at = case when x.disable then now() else e.disabled_at end,
      disabled_reason = case
        when not x.disable then e.disabled_reason
        when x.gone then 'endpoint answered 410 Gone'
        else 'no successful delivery for ' || x.disable_after
      end,
      updated_at = now()
    from decided x
    where e.id = x.id
    returning e.id, x.disable, x.gone
  )
  select array_agg(u.id), array_agg(u.status),
         (select array_agg(ch.id order by ch.id) from changed ch where ch.disable),
         (select array_agg(ch.gone order by ch.id) from changed ch where ch.disable)
  into v_ids, v_statuses, v_disabled, v_gone
  from updated u;

  -- Operational events are rare: published one by one, like any other event. One about
  -- delivery itself is never reported, or an endpoint that fails everything would feed a loop.
  if 'RETRY_EXHAUSTED' = any (v_statuses) then
    perform public.publish_event('message.attempt.exhausted', e.tenant_id, jsonb_build_object(
      'endpoint_id', e.id, 'delivery_id', d.id, 'event_id', ev.id, 'event_type', ev.type,
      'attempts', d.attempts, 'last_status_code', d.last_status_code, 'last_error', d.last_error))
    from public.webhook_deliveries d
    join public.outbound_events ev on ev.id = d.event_id
    join public.webhook_endpoints e on e.id = d.endpoint_id
    where d.id = any (v_ids) and d.status = 'RETRY_EXHAUSTED'
      and ev.type not in ('message.attempt.exhausted', 'endpoint.disabled')
    order by d.id;
  end if;
  if v_disabled is not null then
    perform public.publish_event('endpoint.disabled', e.tenant_id, jsonb_build_object(
      'endpoint_id', e.id, 'url', e.url, 'reason', case when x.gone then 'gone' else 'failing' end))
    from unnest(v_disabled, v_gone) as x(id, gone)
    join public.webhook_endpoints e on e.id = x.id
    order by e.id;
  end if;

  return query select u.id, u.status from unnest(v_ids, v_statuses) as u(id, status);
  if coalesce(cardinality(v_ids), 0) < jsonb_array_length(p_attempts) then
    return query
      select a.delivery_id, coalesce(d.status, 'MISSING')
      from jsonb_to_recordset(p_attempts) as a(delivery_id uuid)
      left join public.webhook_deliveries d on d.id = a.delivery_id
      where a.delivery_id <> all (coalesce(v_ids, '{}'));
  end if;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Operations used by the management API
-- ---------------------------------------------------------------------------------------
-- A test event delivered to one endpoint only, whatever it subscribes to.
create function public.send_webhook_test_event(p_endpoint_id uuid) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_endpoint public.webhook_endpoints;
  v_id text;
begin
  select * into v_endpoint from public.webhook_endpoints where id = p_endpoint_id;
  if v_endpoint.id is null then
    return null;
  end if;
  insert into public.outbound_events (type, tenant_id, api_version, data)
  values ('webhook.test', v_endpoint.tenant_id, public.webhook_api_version(),
          jsonb_build_object('object', jsonb_build_object('message', 'Test event from the webhook management API',
                                                          'endpoint_id', p_endpoint_id)))
  returning id into v_id;
  insert into public.webhook_deliveries (event_id, endpoint_id, tenant_id)
  values (v_id, p_endpoint_id, v_endpoint.tenant_id);
  return v_id;
end;
$$;

-- Sends a delivery again from scratch (a fresh series of attempts), whatever its status.
create function public.replay_webhook_delivery(p_delivery_id uuid) returns boolean
language sql
set search_path = ''
as $$
  with replayed as (
    update public.webhook_deliveries set
      status = 'PENDING', attempts = 0, next_attempt_at = now(), locked_until = null, locked_by = null,
      completed_at = null, updated_at = now()
    where id = p_delivery_id and (status <> 'PENDING' or locked_until is null or locked_until < now())
    returning 1
  )
  select exists (select 1 from replayed);
$$;

-- Replays every failed or exhausted delivery of an endpoint created within [p_from, p_to).
create function public.recover_webhook_deliveries(p_endpoint_id uuid, p_from timestamptz, p_to timestamptz)
returns integer
language sql
set search_path = ''
as $$
  select count(*) filter (where public.replay_webhook_delivery(d.id))::integer
  from public.webhook_deliveries d
  where d.endpoint_id = p_endpoint_id and d.status in ('FAILED', 'RETRY_EXHAUSTED')
    and d.created_at >= p_from and d.created_at < p_to;
$$;

revoke execute on function public.webhook_api_version(), public.webhook_subscribes(text[], text),
  public.publish_event(text, uuid, jsonb), public.publish_order_events(),
  public.wake_webhook_dispatcher(), public.schedule_webhook_sweep(),
  public.webhook_delivery_policy(), public.webhook_attempt_outcome(integer, boolean),
  public.claim_webhook_deliveries(text, integer, integer, integer),
  public.complete_webhook_deliveries(jsonb),
  public.send_webhook_test_event(uuid), public.replay_webhook_delivery(uuid),
  public.recover_webhook_deliveries(uuid, timestamptz, timestamptz)
  from public, anon, authenticated;
grant execute on function public.publish_event(text, uuid, jsonb) to service_role;
