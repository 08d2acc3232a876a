-- Demo data for the local stack. `npm run trigger -- stripe payment_intent.succeeded
-- --order 00000000-0000-4000-8000-000000000001` pays the first demo order.
insert into public.orders (id, status, amount_total, currency, customer_email, metadata,
                           number, customer_name, amount_subtotal, amount_shipping, amount_tax, shipping_address)
values
  ('00000000-0000-4000-8000-000000000001', 'pending', 4200, 'usd', 'ada@example.com', '{"demo": true}',
   'DEMO-0001', 'Ada Lovelace', 3700, 500, 0,
   '{"name": "Ada Lovelace", "line1": "12 St James''s Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"}'),
  ('00000000-0000-4000-8000-000000000002', 'pending', 12900, 'eur', 'grace@example.com', '{"demo": true}',
   'DEMO-0002', 'Grace Hopper', 10900, 2000, 0, null)
on conflict (id) do nothing;

insert into public.order_items (order_id, position, product_id, name, sku, quantity, unit_price, currency)
select * from (values
  ('00000000-0000-4000-8000-000000000001'::uuid, 1, 'prod_mug', 'Stoneware mug', 'MUG-STONE', 2, 1500::bigint, 'usd'),
  ('00000000-0000-4000-8000-000000000001'::uuid, 2, 'prod_tea', 'Sencha green tea, 100 g', 'TEA-SENCHA', 1, 700::bigint, 'usd'),
  ('00000000-0000-4000-8000-000000000002'::uuid, 1, 'prod_kettle', 'Cast-iron kettle', 'KETTLE-1', 1, 10900::bigint, 'eur')
) as demo
where not exists (select 1 from public.order_items i where i.order_id = demo.column1);

-- The demo shop's brand, as its emails show it.
update public.email_brand set
  shop_name = 'Demo Tea Shop',
  support_email = 'help@shop.example.com',
  postal_address = 'Demo Tea Shop Ltd, 1 Market Street, Bristol BS1 1AA, United Kingdom',
  shop_url = 'https://shop.example.com',
  preferences_url = 'https://shop.example.com/account/email'
where shop_name = 'Our shop';
