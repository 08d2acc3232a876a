-- Generic inbound sources. A source is a URL (/functions/v1/inbound-webhook/<id>) and a
-- secret; inbound-webhook verifies each request by the source's scheme, then records it in
-- webhook_events under provider 'source:<id>' (so the one unique (provider, event_id) key
-- dedupes per source, and begin/finish/record_webhook_event_failure serve sources unchanged),
-- filters it, and runs its effect (a SQL handler, forwarding to partners) in the same
-- transaction, or, in async mode, leaves it pending for a batch worker.

-- ---------------------------------------------------------------------------------------
-- webhook_sources
-- ---------------------------------------------------------------------------------------
create table public.webhook_sources (
  id uuid primary key default gen_random_uuid(),
  tenant_id uuid,
  name text not null check (length(name) between 1 and 200),
  verifier text not null check (verifier in (
    'standard-webhooks', 'stripe', 'github', 'shopify', 'close', 'twilio', 'paypal',
    'hmac', 'basic', 'api-key', 'none')),
  -- The scheme's settings beyond the secret (hmac: algorithm, encoding, header, prefix,
  -- timestamp header, signed payload; api-key: where the key travels; basic: the user name;
  -- paypal: the webhook id). Checked by the API, read by the verifier.
  verifier_options jsonb not null default '{}'::jsonb,
  -- Null only for schemes without one (paypal, none). Never returned by the API after create.
  secret text,
  -- The secret a rotation replaced: still accepted until previous_secret_expires_at.
  previous_secret text,
  previous_secret_expires_at timestamptz,
  -- Where the provider's own id and type are: a header name, or a JSON path ('$.id'). A null
  -- event_id means the SHA-256 of the body; a null event_type means 'unknown'.
  event_id text,
  event_type text,
  -- Event types to act on, with the partners' wildcard rule (webhook_subscribes): '*',
  -- 'customer.*', an exact type. Everything else is stored as ignored.
  filter text[] not null default array['*'],
  -- A function (event jsonb, source jsonb) returns text, as 'schema.name'; its text is the
  -- event's outcome.
  handler text,
  -- [{match, type}]: the first rule whose match covers the event's type publishes it to the
  -- partner outbox under `type`.
  forward jsonb not null default '[]'::jsonb check (jsonb_typeof(forward) = 'array'),
  mode text not null default 'sync' check (mode in ('sync', 'async')),
  batch_size integer not null default 100 check (batch_size between 1 and 1000),
  max_wait_seconds integer not null default 5 check (max_wait_seconds between 0 and 3600),
  tolerance_seconds integer not null default 300 check (tolerance_seconds between 1 and 86400),
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

comment on table public.webhook_sources is
  'Generic inbound webhook sources: verification scheme, secret, id/type location, filter and effect.';

create index webhook_sources_tenant_created on public.webhook_sources (tenant_id, created_at desc, id desc);

alter table public.webhook_sources enable row level security;
revoke all on public.webhook_sources from anon, authenticated;
create policy "no api access" on public.webhook_sources for all to anon, authenticated
  using (false) with check (false);

-- ---------------------------------------------------------------------------------------
-- webhook_events: a source's events, and async ones waiting for their batch
-- ---------------------------------------------------------------------------------------
-- Derived from provider, so every existing writer fills it without knowing about it; no
-- foreign key: a deleted source's events stay, for audit and retention to decide.
alter table public.webhook_events
  add column source_id uuid generated always as (
    case when provider like 'source:%' then substr(provider, 8)::uuid end) stored,
  -- When a pending (async) event is next due; null for every other status.
  add column next_attempt_at timestamptz;

alter table public.webhook_events drop constraint webhook_events_status_check;
-- pending: recorded by an async source, waiting for its batch
alter table public.webhook_events add constraint webhook_events_status_check
  check (status in ('pending', 'processed', 'ignored', 'unmatched', 'failed'));

create index webhook_events_source_received on public.webhook_events (source_id, received_at desc, id desc)
  where source_id is not null;
create index webhook_events_pending on public.webhook_events (source_id, next_attempt_at)
  where status = 'pending';

-- ---------------------------------------------------------------------------------------
-- Outcome → status, the one rule for every inbound event: 'ignored' and 'unmatched…' keep
-- their name, 'pending' waits for an async batch, anything else was processed.
-- ---------------------------------------------------------------------------------------
create function public.webhook_event_status(p_outcome text) returns text
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

-- finish_webhook_event now takes its status from webhook_event_status, so an async source's
-- event is stored pending and due at once; Stripe's and Resend's events are unchanged.
create or replace function public.finish_webhook_event(
  p_provider text,
  p_event_id text,
  p_event_type text,
  p_created_at timestamptz,
  p_payload jsonb,
  p_outcome text,
  p_request_id text,
  p_api_version text default null,
  p_livemode boolean default null
) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_status text := public.webhook_event_status(p_outcome);
  v_pending boolean := v_status = 'pending';
begin
  insert into public.webhook_events as e (
    provider, event_id, event_type, api_version, livemode, event_created_at, payload,
    status, outcome, request_id, processed_at, next_attempt_at)
  values (p_provider, p_event_id, p_event_type, p_api_version, p_livemode, p_created_at, p_payload,
          v_status, p_outcome, p_request_id,
          case when v_pending then null else now() end, case when v_pending then now() end)
  on conflict (provider, event_id) do update set
    status = excluded.status,
    outcome = excluded.outcome,
    error = null,
    attempts = e.attempts + 1,
    request_id = excluded.request_id,
    processed_at = excluded.processed_at,
    next_attempt_at = excluded.next_attempt_at;
  return v_status;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Effects
-- ---------------------------------------------------------------------------------------
-- What one event of p_source does, in the caller's transaction; returns its outcome. Shared
-- by the synchronous path (apply_inbound_event) and the async batches (process_inbound_events),
-- so an event does the same whichever way it is processed. The handler is resolved with
-- to_regprocedure and called through its regprocedure, never by splicing the stored text, so
-- a source's handler name cannot inject SQL; a handler that no longer exists raises, and the
-- event is kept as failed like any raising handler.
create function public.run_inbound_effect(
  p_source public.webhook_sources,
  p_event_id text,
  p_event_type text,
  p_payload jsonb
) returns text
language plpgsql
set search_path = ''
as $$
declare
  v_handler regprocedure;
  v_outcome text;
  v_forward_type text;
begin
  if not public.webhook_subscribes(p_source.filter, p_event_type) then
    return 'ignored';
  end if;
  if p_source.handler is not null then
    v_handler := pg_catalog.to_regprocedure(p_source.handler || '(jsonb,jsonb)');
    if v_handler is null then
      raise exception 'handler %(jsonb, jsonb) does not exist', p_source.handler;
    end if;
    execute pg_catalog.format('select %s($1, $2)', v_handler::oid::regproc) into v_outcome
      using jsonb_build_object('id', p_event_id, 'type', p_event_type, 'payload', p_payload),
            jsonb_build_object('id', p_source.id, 'name', p_source.name, 'tenant_id', p_source.tenant_id,
                               'verifier', p_source.verifier);
    -- 'pending' means "waiting for a batch"; from a handler it would leave the event undue forever.
    if v_outcome = 'pending' then
      raise exception 'handler % answered ''pending'', which only the async queue may set', p_source.handler;
    end if;
  end if;
  select rule ->> 'type' into v_forward_type
  from jsonb_array_elements(p_source.forward) with ordinality as rules (rule, position)
  where public.webhook_subscribes(array[rule ->> 'match'], p_event_type)
  order by position
  limit 1;
  if v_forward_type is not null then
    perform public.publish_event(v_forward_type, p_source.tenant_id, jsonb_build_object(
      'source', jsonb_build_object('id', p_source.id, 'name', p_source.name),
      'event', jsonb_build_object('id', p_event_id, 'type', p_event_type),
      'payload', p_payload));
  end if;
  return coalesce(v_outcome, case when v_forward_type is not null then 'forwarded:' || v_forward_type else 'stored' end);
end;
$$;

-- Records a source's event once and applies its effect in the same transaction, one round
-- trip: copies serialize on begin_webhook_event's advisory lock, so of 25 concurrent copies
-- one applies and 24 see a duplicate. An async source's matching events are stored pending
-- and the batch worker is woken; filtered-out ones are settled as ignored at once. If the
-- effect raises, the whole call rolls back and the function records the failure with
-- record_webhook_event_failure in a transaction of its own, as for Stripe.
create function public.apply_inbound_event(
  p_source_id uuid,
  p_event_id text,
  p_event_type text,
  p_payload jsonb,
  p_request_id text
) returns table (status text, outcome text, duplicate boolean, error text)
language plpgsql
set search_path = ''
as $$
declare
  v_provider text := 'source:' || p_source_id;
  v_seen record;
  v_source public.webhook_sources;
  v_outcome text;
begin
  select * into v_seen from public.begin_webhook_event(v_provider, p_event_id);
  if found then
    return query select v_seen.status, v_seen.outcome, true, v_seen.error;
    return;
  end if;
  select * into v_source from public.webhook_sources s where s.id = p_source_id and s.active;
  if not found then
    raise exception 'source % does not exist or is disabled', p_source_id;
  end if;
  if v_source.mode = 'async' and public.webhook_subscribes(v_source.filter, p_event_type) then
    v_outcome := 'pending';
    perform public.wake_inbound_worker();
  else
    v_outcome := public.run_inbound_effect(v_source, p_event_id, p_event_type, p_payload);
  end if;
  return query select
    public.finish_webhook_event(v_provider, p_event_id, p_event_type, null, p_payload, v_outcome, p_request_id),
    v_outcome, false, null::text;
end;
$$;

-- ---------------------------------------------------------------------------------------
-- Async batches
-- ---------------------------------------------------------------------------------------
-- The retry schedule of an async event whose handler raised: the delay before try n+1 is
-- element n; after the last, the event is failed for an operator to replay. Immutable and
-- argument-free, so a call folds into a constant, as webhook_delivery_policy does.
create function public.inbound_retry_delays() returns interval[]
language sql immutable
set search_path = ''
as $$ select array['10 seconds', '1 minute', '5 minutes', '30 minutes', '2 hours']::interval[] $$;

create function public.wake_inbound_worker() returns void
language sql
set search_path = ''
as $$ select public.wake_worker('webhook_events', 'inbound_webhook_url', 'inbound_wakeup_secret', 'process') $$;

create function public.schedule_inbound_sweep() returns boolean
language sql
set search_path = ''
as $$ select public.schedule_sweep('inbound-events-sweep', 'select public.wake_inbound_worker()') $$;

select public.schedule_inbound_sweep();

-- Processes up to p_limit due pending events of the sources whose batch is ready: at least
-- batch_size events due, or the oldest due one has waited max_wait_seconds. The claim's row
-- locks (FOR UPDATE SKIP LOCKED) are the lease: effects run in the claiming transaction, so
-- a worker that dies mid-batch rolls the whole batch back and its events are claimed again,
-- never applied twice. Each event runs in its own subtransaction, so one raising handler
-- retries on inbound_retry_delays without undoing its batch. Returns the counts.
create function public.process_inbound_events(p_limit integer)
returns table (claimed integer, processed integer, retried integer, failed integer)
language plpgsql
set search_path = ''
as $$
declare
  v_delays interval[] := public.inbound_retry_delays();
  v_event record;
  v_outcome text;
  v_exhausted boolean;
begin
  claimed := 0; processed := 0; retried := 0; failed := 0;
  for v_event in
    with ready as (
      select p.source_id
      from public.webhook_events p
      join public.webhook_sources s on s.id = p.source_id
      where p.status = 'pending' and p.next_attempt_at <= now()
      group by p.source_id, s.batch_size, s.max_wait_seconds
      having count(*) >= s.batch_size
          or min(p.received_at) <= now() - make_interval(secs => s.max_wait_seconds)
    )
    select e.id, e.event_id, e.event_type, e.payload, e.attempts, s as source
    from public.webhook_events e
    join public.webhook_sources s on s.id = e.source_id
    where e.status = 'pending' and e.next_attempt_at <= now()
      and e.source_id in (select r.source_id from ready r)
    order by e.next_attempt_at, e.id
    limit p_limit
    for update of e skip locked
  loop
    claimed := claimed + 1;
    begin
      v_outcome := public.run_inbound_effect(v_event.source, v_event.event_id, v_event.event_type, v_event.payload);
      update public.webhook_events set
        status = public.webhook_event_status(v_outcome), outcome = v_outcome, error = null,
        processed_at = now(), next_attempt_at = null
      where id = v_event.id;
      processed := processed + 1;
    exception when others then
      v_exhausted := v_event.attempts > cardinality(v_delays);
      update public.webhook_events set
        attempts = v_event.attempts + 1,
        error = sqlerrm,
        status = case when v_exhausted then 'failed' else 'pending' end,
        next_attempt_at = case when v_exhausted then null else now() + v_delays[v_event.attempts] end
      where id = v_event.id;
      if v_exhausted then failed := failed + 1; else retried := retried + 1; end if;
    end;
  end loop;
  return next;
end;
$$;

revoke execute on function public.webhook_event_status(text),
  public.run_inbound_effect(public.webhook_sources, text, text, jsonb),
  public.apply_inbound_event(uuid, text, text, jsonb, text),
  public.inbound_retry_delays(),
  public.wake_inbound_worker(),
  public.schedule_inbound_sweep(),
  public.process_inbound_events(integer)
  from public, anon, authenticated;
