-- Demo data for the local stack. `npm run trigger -- stripe payment_intent.succeeded
-- --order 00000000-0000-4000-8000-000000000001` pays the first demo order.
insert into public.orders (id, status, amount_total, currency, customer_email, metadata)
values
  ('00000000-0000-4000-8000-000000000001', 'pending', 4200, 'usd', 'ada@example.com', '{"demo": true}'),
  ('00000000-0000-4000-8000-000000000002', 'pending', 12900, 'eur', 'grace@example.com', '{"demo": true}')
on conflict (id) do nothing;
