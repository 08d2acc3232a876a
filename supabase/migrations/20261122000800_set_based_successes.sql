-- Successful deliveries are recorded set-based: one statement each for the attempts, the
-- deliveries and the endpoints of a whole batch, instead of a PL/pgSQL call per delivery that
-- locked, inserted and updated row by row. Sampling pg_stat_activity during the outbound bench
-- still found the per-delivery completion on the CPU in a third of the samples after batching.
-- complete_webhook_attempt keeps the failure path (retries, circuit, exhaustion, disabling) and
-- hands a success to the batch function, so success is recorded in one place only.

create or replace function public.complete_webhook_attempts(p_attempts jsonb)
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
