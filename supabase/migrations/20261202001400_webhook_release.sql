-- Handing claimed deliveries back. The dispatcher claims its next batch while the pool is
-- still busy (webhook-dispatcher/dispatch.ts), and a claim spends the endpoint's rate-limit
-- tokens when it leases. A delivery claimed ahead that cannot start within moments (every
-- slot held by slow partners) would reach its partner later than its token was taken, and a
-- late one next to a fresh one could exceed the bucket; so the dispatcher hands it back
-- instead: unleased, its attempt not counted, its token returned. Only the worker holding
-- the lease can release it, and only while it is pending. A half-open probe handed back is
-- retaken like a crashed worker's, once its lease would have ended.
create function public.release_webhook_deliveries(p_worker text, p_delivery_ids uuid[]) returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_released integer;
begin
  with released as (
    update public.webhook_deliveries d set
      attempts = d.attempts - 1,
      locked_until = null,
      locked_by = null,
      updated_at = now()
    where d.id = any (p_delivery_ids) and d.locked_by = p_worker and d.status = 'PENDING'
      and d.locked_until >= now()
    returning d.endpoint_id
  ),
  per_endpoint as (
    select r.endpoint_id, count(*) as n from released r group by r.endpoint_id
  ),
  refunded as (
    update public.rate_limit_buckets b set tokens = least(e.rate_limit_burst, b.tokens + p.n)
    from per_endpoint p join public.webhook_endpoints e on e.id = p.endpoint_id
    where b.key = 'webhook-endpoint:' || p.endpoint_id
    returning 1
  )
  select coalesce(sum(p.n), 0)::integer into v_released from per_endpoint p;
  return v_released;
end;
$$;

revoke execute on function public.release_webhook_deliveries(text, uuid[]) from public, anon, authenticated;
