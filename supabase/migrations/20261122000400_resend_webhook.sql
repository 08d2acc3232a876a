-- Resend delivery events (Svix-signed) and their effect on email_queue and email_suppressions.
-- One call of apply_resend_event records an event and applies it in the same transaction, in
-- one round trip, like apply_stripe_event. An event can beat the worker's own bookkeeping (a
-- fast email.delivered arrives before complete_email_jobs has stored the message id): it is
-- kept as unmatched, and complete_email_jobs applies it through reconcile_email_events once
-- the id is known (which is why email-service's completion is defined here, not with the
-- queue). Both paths apply an event with the same function, apply_email_event.

-- reconcile_email_events looks up unmatched Resend events by message id. An expression index
-- on the stored payload rather than a new column: webhook_events is shared by every provider
-- and its row is written once per event, and the partial predicate keeps the index down to
-- the few events waiting for their message, so processed events never enter it.
create index webhook_events_resend_unmatched_message
  on public.webhook_events ((payload -> 'data' ->> 'email_id'))
  where provider = 'resend' and status = 'unmatched';

-- Serializes everything that matches events to a message id: the webhook looking for the job
-- and complete_email_jobs storing the id, then looking for waiting events. Without it each
-- could miss the other's uncommitted write, and the event would stay unmatched for good.
-- Locks are taken in sorted order so two batches cannot deadlock on each other.
create function public.lock_email_messages(p_message_ids text[]) returns void
language plpgsql
set search_path = ''
as $$
begin
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('resend-message:' || m.id, 0))
  from (select distinct u.id from unnest(p_message_ids) as u(id) where u.id is not null order by u.id) m;
end;
$$;

-- Applies one Resend event to the job sent as p_message_id; returns the outcome, or
-- 'unmatched_message' when no job carries that id (yet), or 'ignored' for a type not handled.
-- A status only moves up this ranking; dead and canceled are absent from it on purpose: they
-- are the worker's and the operator's final word, and provider events only add timestamps.
-- The ranking is a local constant, not a helper called per status (see apply_order_effect).
create function public.apply_email_event(p_message_id text, p_event_type text, p_at timestamptz, p_payload jsonb)
returns text
language plpgsql
set search_path = ''
as $$
declare
  c_rank constant jsonb := '{"pending": 0, "sending": 1, "sent": 2, "delivered": 3,
                             "bounced": 4, "failed": 4, "suppressed": 4, "complained": 5}';
  v_data jsonb := p_payload -> 'data';
  v_job public.email_queue;
  v_status text := case p_event_type
    when 'email.sent' then 'sent'
    when 'email.delivered' then 'delivered'
    when 'email.bounced' then 'bounced'
    when 'email.complained' then 'complained'
    when 'email.failed' then 'failed'
    when 'email.suppressed' then 'suppressed'
  end;
  v_apply boolean;
  v_error text;
begin
  if v_status is null and p_event_type not in ('email.delivery_delayed', 'email.opened', 'email.clicked') then
    return 'ignored';
  end if;
  select * into v_job from public.email_queue where provider_message_id = p_message_id for update;
  if v_job.id is null then
    return 'unmatched_message';
  end if;

  v_apply := coalesce((c_rank ->> v_status)::integer > (c_rank ->> v_job.status)::integer, false);
  v_error := case p_event_type
    when 'email.bounced' then
      'bounced' || coalesce(' (' || nullif(concat_ws('/', v_data -> 'bounce' ->> 'type', v_data -> 'bounce' ->> 'subType'), '') || ')', '')
        || coalesce(': ' || (v_data -> 'bounce' ->> 'message'), '')
    when 'email.failed' then 'failed' || coalesce(': ' || (v_data -> 'failed' ->> 'reason'), '')
    when 'email.suppressed' then 'suppressed' || coalesce(': ' || (v_data -> 'suppressed' ->> 'message'), '')
  end;

  -- Nothing to write for a kept status or a delay: no row version for nothing.
  if v_apply or p_event_type in ('email.delivered', 'email.opened', 'email.clicked') then
    -- least() ignores nulls: each timestamp is the earliest event of its kind, whatever the
    -- order of arrival.
    update public.email_queue q set
      status = case when v_apply then v_status else q.status end,
      last_error = case when v_apply and v_error is not null then v_error else q.last_error end,
      delivered_at = case when p_event_type = 'email.delivered' then least(q.delivered_at, p_at) else q.delivered_at end,
      opened_at = case when p_event_type = 'email.opened' then least(q.opened_at, p_at) else q.opened_at end,
      clicked_at = case when p_event_type = 'email.clicked' then least(q.clicked_at, p_at) else q.clicked_at end,
      updated_at = now()
    where q.id = v_job.id;
  end if;

  return case
    when v_status is null then replace(p_event_type, '.', '_')
    when v_apply then 'email_status:' || v_status
    else 'email_status_kept:' || v_job.status
  end;
end;
$$;

-- Records a Resend event (event_id = svix-id) and applies it in one transaction. Copies of one
-- event serialize on an advisory lock keyed by its id, so the second copy sees the first as a
-- duplicate; a failed event is applied again on redelivery. A hard bounce, a complaint or a
-- provider suppression suppresses the recipients whether or not the job is known: the address
-- hurts the sender's reputation either way. A bounce without a type counts as hard for the
-- same reason: wrongly suppressing one address costs less than mailing a dead one again.
create function public.apply_resend_event(
  p_svix_id text,
  p_event_type text,
  p_created_at timestamptz,
  p_payload jsonb,
  p_message_id text,
  p_bounce_type text,
  p_recipients text[],
  p_request_id text
) returns table (status text, outcome text, duplicate boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_seen record;
  v_reason text := case
    when p_event_type = 'email.complained' then 'complaint'
    when p_event_type = 'email.suppressed' then 'provider_suppressed'
    when p_event_type = 'email.bounced' and lower(coalesce(p_bounce_type, 'permanent')) = 'permanent' then 'hard_bounce'
  end;
  v_outcome text;
begin
  select * into v_seen from public.begin_webhook_event('resend', p_svix_id);
  if found then
    return query select v_seen.status, v_seen.outcome, true;
    return;
  end if;

  perform public.lock_email_messages(array[p_message_id]);
  if v_reason is not null then
    -- `to` may carry display names ("Ada <ada@example.com>"); without it, the job's recipient.
    insert into public.email_suppressions (email, reason, source_event_id)
    select distinct lower(trim(coalesce(substring(r from '<([^<>]+)>'), r))), v_reason, p_svix_id
    from unnest(coalesce(nullif(p_recipients, '{}'),
                         array(select q.recipient from public.email_queue q where q.provider_message_id = p_message_id))) as u(r)
    where r like '%_@_%'
    on conflict (email) do nothing;
  end if;

  v_outcome := public.apply_email_event(p_message_id, p_event_type, p_created_at, p_payload);
  return query select
    public.finish_webhook_event('resend', p_svix_id, p_event_type, p_created_at, p_payload, v_outcome, p_request_id),
    v_outcome, false;
end;
$$;

-- Called by complete_email_jobs (below) with the message ids it just stored: applies the
-- events that arrived before their id was known, oldest first, and marks them processed. An id
-- whose job was not completed (it was no longer sending) stays unmatched. The exception block
-- (a subtransaction) is entered only for such waiting events, never on the common path.
create function public.reconcile_email_events(p_message_ids text[]) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_event record;
  v_outcome text;
  v_applied integer := 0;
begin
  perform public.lock_email_messages(p_message_ids);
  for v_event in
    select e.id, e.event_type, e.event_created_at, e.payload
    from public.webhook_events e
    where e.provider = 'resend' and e.status = 'unmatched'
      and (e.payload -> 'data' ->> 'email_id') = any (p_message_ids)
    order by e.event_created_at, e.id
  loop
    begin
      v_outcome := public.apply_email_event(
        v_event.payload -> 'data' ->> 'email_id', v_event.event_type, v_event.event_created_at, v_event.payload);
      continue when v_outcome = 'unmatched_message';
      update public.webhook_events set status = 'processed', outcome = v_outcome, processed_at = now()
      where id = v_event.id;
      v_applied := v_applied + 1;
    exception when others then
      -- The worker's bookkeeping must not fail because of an event: otherwise the batch is
      -- never marked sent and its jobs end dead although delivered. The event is flagged
      -- failed for an operator, and Resend's redelivery (if any) applies it.
      update public.webhook_events set status = 'failed', error = sqlerrm where id = v_event.id;
    end;
  end loop;
  return v_applied;
end;
$$;

-- email-service's completion: marks jobs sent with the provider's message ids (parallel
-- arrays), then applies the events that arrived before those ids were known.
create function public.complete_email_jobs(p_ids uuid[], p_message_ids text[]) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_done integer;
begin
  update public.email_queue q set
    status = 'sent',
    provider_message_id = m.message_id,
    sent_at = now(),
    locked_until = null,
    locked_by = null,
    last_error = null,
    updated_at = now()
  from unnest(p_ids, p_message_ids) as m(id, message_id)
  where q.id = m.id and q.status = 'sending';
  get diagnostics v_done = row_count;
  perform public.reconcile_email_events(p_message_ids);
  return v_done;
end;
$$;

revoke execute on function public.lock_email_messages(text[]),
  public.apply_email_event(text, text, timestamptz, jsonb),
  public.apply_resend_event(text, text, timestamptz, jsonb, text, text, text[], text),
  public.reconcile_email_events(text[]),
  public.complete_email_jobs(uuid[], text[])
  from public, anon, authenticated;
