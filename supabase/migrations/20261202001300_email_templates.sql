-- The emails a shop would actually send: one responsive layout and the five defaults rewritten
-- as receipts and notices (after Stripe's and Shopify's receipts and Postmark's open-source
-- transactional templates), rendered by _shared/email/render.ts (Handlebars).
--
-- An operator's edit wins: the layout is replaced only while it is still the placeholder the
-- order_items migration installed, and each template only while its row holds exactly the
-- subject, html and text the email_queue migration installed.
--
-- Email clients are not browsers: Outlook renders with Word, Gmail drops <style> in some
-- apps and inverts colours in dark mode. Hence tables for layout, inline styles everywhere
-- (the <style> block only adds a dark palette and smaller padding where it is honoured),
-- fluid widths (100%, max 600 px; nothing fixed wider than 320 px), and mid-grey text on
-- off-white so a client that inverts the colours still shows legible text.

-- ---------------------------------------------------------------------------------------
-- The layout
-- ---------------------------------------------------------------------------------------
-- The hidden preheader is followed by zero-width fillers so the inbox preview stops at it
-- instead of running on into the email's first words. The footer's preferences link is for
-- emails a customer may opt out of (email_templates.transactional = false) only.
update public.email_layouts set
  html = $tpl$<!DOCTYPE html>
<html lang="en" xmlns="http://www.w3.org/1999/xhtml">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="x-apple-disable-message-reformatting">
<meta name="format-detection" content="telephone=no, date=no, address=no, email=no">
<meta name="color-scheme" content="light dark">
<meta name="supported-color-schemes" content="light dark">
<title>{{brand.shop_name}}</title>
<style>
:root { color-scheme: light dark; supported-color-schemes: light dark; }
@media only screen and (max-width: 480px) {
  .email-card { padding: 24px 16px !important; }
}
@media (prefers-color-scheme: dark) {
  .email-bg { background-color: #111827 !important; }
  .email-card { background-color: #1f2937 !important; }
  .email-text { color: #f3f4f6 !important; }
  .email-muted { color: #9ca3af !important; }
  .email-rule { border-color: #374151 !important; }
}
</style>
</head>
<body class="email-bg" style="margin:0; padding:0; width:100%; background-color:#f4f4f5; -webkit-text-size-adjust:100%; -ms-text-size-adjust:100%;">
{{#if @preheader}}
<div style="display:none; font-size:1px; line-height:1px; max-height:0; max-width:0; opacity:0; overflow:hidden; mso-hide:all; color:#f4f4f5;">{{@preheader}}&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;</div>
{{/if}}
<table role="presentation" class="email-bg" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%; background-color:#f4f4f5;">
<tr>
<td align="center" style="padding:24px 8px;">
<!--[if mso]><table role="presentation" width="600" align="center" border="0" cellpadding="0" cellspacing="0"><tr><td><![endif]-->
<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%; max-width:600px; margin:0 auto;">
<tr>
<td align="left" style="padding:0 8px 16px; font-family:-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;">
{{#if brand.shop_url}}<a href="{{brand.shop_url}}" target="_blank" style="text-decoration:none;">{{/if}}
{{#if brand.logo_url}}
<img src="{{brand.logo_url}}" alt="{{brand.shop_name}}" width="160" style="display:block; width:160px; max-width:100%; height:auto; border:0; outline:none; text-decoration:none;">
{{else}}
<span class="email-text" style="font-size:20px; line-height:28px; font-weight:700; color:#111827;">{{brand.shop_name}}</span>
{{/if}}
{{#if brand.shop_url}}</a>{{/if}}
</td>
</tr>
<tr>
<td class="email-card email-text" style="padding:32px 24px; background-color:#ffffff; border-radius:8px; font-family:-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size:16px; line-height:24px; color:#1f2937; text-align:left; word-break:break-word; overflow-wrap:break-word;">
{{> content}}
</td>
</tr>
<tr>
<td class="email-muted" style="padding:24px 8px; font-family:-apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; font-size:13px; line-height:20px; color:#6b7280; text-align:center; word-break:break-word; overflow-wrap:break-word;">
<p style="margin:0 0 8px;">{{#if brand.shop_url}}<a href="{{brand.shop_url}}" target="_blank" class="email-muted" style="color:#6b7280; text-decoration:underline;">{{brand.shop_name}}</a>{{else}}{{brand.shop_name}}{{/if}}</p>
{{#if brand.postal_address}}
<p style="margin:0 0 8px;">{{brand.postal_address}}</p>
{{/if}}
{{#if brand.support_email}}
<p style="margin:0 0 8px;">Need help? Write to <a href="mailto:{{brand.support_email}}" class="email-muted" style="color:#6b7280; text-decoration:underline;">{{brand.support_email}}</a></p>
{{/if}}
{{#unless @transactional}}
{{#if brand.preferences_url}}
<p style="margin:0 0 8px;"><a href="{{brand.preferences_url}}" target="_blank" class="email-muted" style="color:#6b7280; text-decoration:underline;">Email preferences</a></p>
{{/if}}
{{/unless}}
</td>
</tr>
</table>
<!--[if mso]></td></tr></table><![endif]-->
</td>
</tr>
</table>
</body>
</html>
$tpl$,
  text = $tpl${{> content}}

--
{{brand.shop_name}}
{{#if brand.shop_url}}
{{brand.shop_url}}
{{/if}}
{{#if brand.support_email}}
Need help? Write to {{brand.support_email}}
{{/if}}
{{#if brand.postal_address}}
{{brand.postal_address}}
{{/if}}
{{#unless @transactional}}
{{#if brand.preferences_url}}
Email preferences: {{brand.preferences_url}}
{{/if}}
{{/unless}}
$tpl$,
  updated_at = now()
where key = 'default' and html = '{{> content}}' and text = '{{> content}}';

-- ---------------------------------------------------------------------------------------
-- order_confirmation: the receipt. Data: order_email_data() (order_items migration).
-- ---------------------------------------------------------------------------------------
-- The order number when it has one (a customer reads it out on the phone), else its id. Each
-- part of the total shows only when known: an order created without lines or parts still
-- gets its total. Free shipping (0) says so; unknown shipping (null) is left out.
update public.email_templates set
  subject = $tpl$Order confirmed: {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}$tpl$,
  preheader = $tpl$Thanks for shopping with {{brand.shop_name}}. Here is your receipt for {{money total}}.$tpl$,
  html = $tpl$<h1 style="margin:0 0 16px; font-size:24px; line-height:32px; font-weight:700;">Thank you for your order</h1>
<p style="margin:0 0 16px;">{{#if customer_name}}Hi {{customer_name}},{{else}}Hello,{{/if}}</p>
<p style="margin:0 0 24px;">We have received your order and your payment. Here is your receipt; keep it for your records.</p>
<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%;">
<tr>
<td valign="top" style="padding:0 12px 0 0; vertical-align:top;">
<div class="email-muted" style="font-size:13px; line-height:20px; color:#6b7280;">Order</div>
<div style="font-weight:600;">{{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}</div>
</td>
<td valign="top" align="right" style="padding:0; vertical-align:top; text-align:right;">
<div class="email-muted" style="font-size:13px; line-height:20px; color:#6b7280;">Date</div>
<div style="font-weight:600;">{{date ordered_at}}</div>
</td>
</tr>
</table>
{{#if items.length}}
<table role="presentation" class="email-rule" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%; margin:24px 0 0; border-top:1px solid #e5e7eb;">
{{#each items}}
<tr>
<td class="email-rule" style="padding:12px 0; border-bottom:1px solid #e5e7eb;">
<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%;">
<tr>
{{#if image_url}}
<td width="64" valign="top" style="width:64px; padding:0 12px 0 0; vertical-align:top;"><img src="{{image_url}}" width="64" alt="" style="display:block; width:64px; max-width:100%; height:auto; border:0; border-radius:4px;"></td>
{{/if}}
<td valign="top" style="vertical-align:top; word-break:break-word; overflow-wrap:break-word;">
<div style="font-weight:600;">{{name}}</div>
<div class="email-muted" style="font-size:14px; line-height:20px; color:#6b7280;">Qty {{quantity}} × {{money unit_price currency}}{{#if sku}} · SKU {{sku}}{{/if}}</div>
</td>
<td valign="top" align="right" style="padding:0 0 0 12px; vertical-align:top; text-align:right; white-space:nowrap;">{{money line_total currency}}</td>
</tr>
</table>
</td>
</tr>
{{/each}}
</table>
{{/if}}
<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%; margin:16px 0 24px;">
{{#if subtotal}}
<tr><td style="padding:4px 0;">Subtotal</td><td align="right" style="padding:4px 0; text-align:right; white-space:nowrap;">{{money subtotal}}</td></tr>
{{/if}}
{{#if discount}}
<tr><td style="padding:4px 0;">Discount</td><td align="right" style="padding:4px 0; text-align:right; white-space:nowrap;">−{{money discount}}</td></tr>
{{/if}}
{{#if shipping includeZero=true}}
<tr><td style="padding:4px 0;">Shipping</td><td align="right" style="padding:4px 0; text-align:right; white-space:nowrap;">{{#if shipping}}{{money shipping}}{{else}}Free{{/if}}</td></tr>
{{/if}}
{{#if tax}}
<tr><td style="padding:4px 0;">Tax</td><td align="right" style="padding:4px 0; text-align:right; white-space:nowrap;">{{money tax}}</td></tr>
{{/if}}
<tr><td class="email-rule" style="padding:12px 0 0; border-top:1px solid #e5e7eb; font-size:18px; font-weight:700;">Total</td><td class="email-rule" align="right" style="padding:12px 0 0; border-top:1px solid #e5e7eb; text-align:right; white-space:nowrap; font-size:18px; font-weight:700;">{{money total}}</td></tr>
</table>
{{#with shipping_address}}
<div class="email-muted" style="font-size:13px; line-height:20px; color:#6b7280;">Ship to</div>
<p style="margin:0 0 24px;">{{#if name}}{{name}}<br>{{/if}}{{line1}}<br>{{#if line2}}{{line2}}<br>{{/if}}{{#if city}}{{city}}{{/if}}{{#if state}}, {{state}}{{/if}}{{#if postal_code}} {{postal_code}}{{/if}}<br>{{country}}</p>
{{/with}}
{{#with billing_address}}
<div class="email-muted" style="font-size:13px; line-height:20px; color:#6b7280;">Billing address</div>
<p style="margin:0 0 24px;">{{#if name}}{{name}}<br>{{/if}}{{line1}}<br>{{#if line2}}{{line2}}<br>{{/if}}{{#if city}}{{city}}{{/if}}{{#if state}}, {{state}}{{/if}}{{#if postal_code}} {{postal_code}}{{/if}}<br>{{country}}</p>
{{/with}}
<p style="margin:0;">Questions about your order? Reply to this email{{#if brand.support_email}} or write to <a href="mailto:{{brand.support_email}}" style="color:{{brand.primary_color}}; text-decoration:underline;">{{brand.support_email}}</a>{{/if}}.</p>
$tpl$,
  text = $tpl$Thank you for your order

{{#if customer_name}}Hi {{customer_name}},{{else}}Hello,{{/if}}

We have received your order and your payment. Here is your receipt;
keep it for your records.

Order: {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}
Date: {{date ordered_at}}
{{#if items.length}}

Items:
{{#each items}}
- {{name}}: {{quantity}} × {{money unit_price currency}} = {{money line_total currency}}
{{/each}}
{{/if}}

{{#if subtotal}}
Subtotal: {{money subtotal}}
{{/if}}
{{#if discount}}
Discount: −{{money discount}}
{{/if}}
{{#if shipping includeZero=true}}
Shipping: {{#if shipping}}{{money shipping}}{{else}}Free{{/if}}
{{/if}}
{{#if tax}}
Tax: {{money tax}}
{{/if}}
Total: {{money total}}
{{#with shipping_address}}

Ship to:
{{#if name}}
{{name}}
{{/if}}
{{line1}}
{{#if line2}}
{{line2}}
{{/if}}
{{#if city}}{{city}}{{/if}}{{#if state}}, {{state}}{{/if}}{{#if postal_code}} {{postal_code}}{{/if}}
{{country}}
{{/with}}
{{#with billing_address}}

Billing address:
{{#if name}}
{{name}}
{{/if}}
{{line1}}
{{#if line2}}
{{line2}}
{{/if}}
{{#if city}}{{city}}{{/if}}{{#if state}}, {{state}}{{/if}}{{#if postal_code}} {{postal_code}}{{/if}}
{{country}}
{{/with}}

Questions about your order? Reply to this email{{#if brand.support_email}} or write to
{{brand.support_email}}{{/if}}.
$tpl$
where key = 'order_confirmation'
  and (subject, html, text) = (
    'Order confirmed: {{order_id}}',
    '<h1>Thank you for your order</h1><p>We received your payment of <strong>{{amount}} {{currency}}</strong> for order <code>{{order_id}}</code>.</p>',
    'Thank you for your order. We received your payment of {{amount}} {{currency}} for order {{order_id}}.');

-- ---------------------------------------------------------------------------------------
-- payment_failed. Data: order_email_data(); retry_url from the order's metadata.
-- ---------------------------------------------------------------------------------------
-- The button goes where the customer can pay again: the order's retry link, else the shop;
-- with neither, a sentence says what to do, since a button to nowhere is worse than none.
update public.email_templates set
  subject = $tpl$Your payment for order {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}} did not go through$tpl$,
  preheader = $tpl$We could not charge {{money total}}. Nothing was taken; here is how to complete your order.$tpl$,
  html = $tpl$<h1 style="margin:0 0 16px; font-size:24px; line-height:32px; font-weight:700;">Your payment did not go through</h1>
<p style="margin:0 0 16px;">{{#if customer_name}}Hi {{customer_name}},{{else}}Hello,{{/if}}</p>
<p style="margin:0 0 16px;">We could not charge <strong>{{money total}}</strong> for order <strong>{{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}</strong>. No money was taken, and the order will be processed as soon as it is paid.</p>
<p style="margin:0 0 24px;">This usually means the card has expired, the bank declined the charge, or a card number or billing address was mistyped.</p>
{{#if retry_url}}
<table role="presentation" border="0" cellpadding="0" cellspacing="0" style="margin:0 0 24px;"><tr><td align="center" bgcolor="{{brand.primary_color}}" style="border-radius:6px; background-color:{{brand.primary_color}};"><a href="{{retry_url}}" target="_blank" style="display:inline-block; padding:12px 24px; font-size:16px; line-height:24px; font-weight:600; color:#ffffff; text-decoration:none; border-radius:6px;">Complete your payment</a></td></tr></table>
{{else if brand.shop_url}}
<p style="margin:0 0 16px;">You can order again at {{brand.shop_name}} with the same or another payment method.</p>
<table role="presentation" border="0" cellpadding="0" cellspacing="0" style="margin:0 0 24px;"><tr><td align="center" bgcolor="{{brand.primary_color}}" style="border-radius:6px; background-color:{{brand.primary_color}};"><a href="{{brand.shop_url}}" target="_blank" style="display:inline-block; padding:12px 24px; font-size:16px; line-height:24px; font-weight:600; color:#ffffff; text-decoration:none; border-radius:6px;">Return to {{brand.shop_name}}</a></td></tr></table>
{{else}}
<p style="margin:0 0 24px;">To complete your order, please place it again with another payment method.</p>
{{/if}}
<p style="margin:0;">Need a hand? Reply to this email{{#if brand.support_email}} or write to <a href="mailto:{{brand.support_email}}" style="color:{{brand.primary_color}}; text-decoration:underline;">{{brand.support_email}}</a>{{/if}}.</p>
$tpl$,
  text = $tpl$Your payment did not go through

{{#if customer_name}}Hi {{customer_name}},{{else}}Hello,{{/if}}

We could not charge {{money total}} for order {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}.
No money was taken, and the order will be processed as soon as it is paid.

This usually means the card has expired, the bank declined the charge, or
a card number or billing address was mistyped.

{{#if retry_url}}
Complete your payment:
{{retry_url}}
{{else if brand.shop_url}}
You can order again at {{brand.shop_name}} with the same or another
payment method:
{{brand.shop_url}}
{{else}}
To complete your order, please place it again with another payment method.
{{/if}}

Need a hand? Reply to this email{{#if brand.support_email}} or write to {{brand.support_email}}{{/if}}.
$tpl$
where key = 'payment_failed'
  and (subject, html, text) = (
    'Payment failed for order {{order_id}}',
    '<h1>Your payment did not go through</h1><p>The payment of {{amount}} {{currency}} for order <code>{{order_id}}</code> failed. Please try another payment method.</p>',
    'Your payment of {{amount}} {{currency}} for order {{order_id}} failed. Please try another payment method.');

-- ---------------------------------------------------------------------------------------
-- refund_issued. Data: order_email_data(); `refunded` is the order's refunds so far.
-- ---------------------------------------------------------------------------------------
-- A partial refund is one of possibly several (each its own email): it says what has been
-- refunded in all, of what was paid. "5–10 business days" is what card networks take.
update public.email_templates set
  subject = $tpl$Your refund for order {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}$tpl$,
  preheader = $tpl${{money refunded}} is on its way back to your original payment method.$tpl$,
  html = $tpl$<h1 style="margin:0 0 16px; font-size:24px; line-height:32px; font-weight:700;">Your refund is on its way</h1>
<p style="margin:0 0 16px;">{{#if customer_name}}Hi {{customer_name}},{{else}}Hello,{{/if}}</p>
{{#if refunded_in_full}}
<p style="margin:0 0 16px;">We have refunded order <strong>{{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}</strong> in full: <strong>{{money refunded}}</strong>.</p>
{{else}}
<p style="margin:0 0 16px;">We have issued a partial refund for order <strong>{{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}</strong>. In all, <strong>{{money refunded}}</strong> of the {{money total}} you paid has been refunded.</p>
{{/if}}
<table role="presentation" width="100%" border="0" cellpadding="0" cellspacing="0" style="width:100%; margin:0 0 24px;">
<tr><td style="padding:4px 0;">Order total</td><td align="right" style="padding:4px 0; text-align:right; white-space:nowrap;">{{money total}}</td></tr>
<tr><td class="email-rule" style="padding:12px 0 0; border-top:1px solid #e5e7eb; font-size:18px; font-weight:700;">{{#if refunded_in_full}}Refunded in full{{else}}Refunded{{/if}}</td><td class="email-rule" align="right" style="padding:12px 0 0; border-top:1px solid #e5e7eb; text-align:right; white-space:nowrap; font-size:18px; font-weight:700;">{{money refunded}}</td></tr>
</table>
<p style="margin:0 0 16px;">The money goes back to the payment method you paid with. It usually arrives in 5–10 business days, depending on your bank, and shows on your statement as a refund from {{brand.shop_name}}.</p>
<p style="margin:0;">Questions? Reply to this email{{#if brand.support_email}} or write to <a href="mailto:{{brand.support_email}}" style="color:{{brand.primary_color}}; text-decoration:underline;">{{brand.support_email}}</a>{{/if}}.</p>
$tpl$,
  text = $tpl$Your refund is on its way

{{#if customer_name}}Hi {{customer_name}},{{else}}Hello,{{/if}}

{{#if refunded_in_full}}
We have refunded order {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}} in full: {{money refunded}}.
{{else}}
We have issued a partial refund for order {{#if order_number}}{{order_number}}{{else}}{{order_id}}{{/if}}.
In all, {{money refunded}} of the {{money total}} you paid has been refunded.
{{/if}}

Order total: {{money total}}
{{#if refunded_in_full}}Refunded in full{{else}}Refunded{{/if}}: {{money refunded}}

The money goes back to the payment method you paid with. It usually
arrives in 5–10 business days, depending on your bank, and shows on your
statement as a refund from {{brand.shop_name}}.

Questions? Reply to this email{{#if brand.support_email}} or write to {{brand.support_email}}{{/if}}.
$tpl$
where key = 'refund_issued'
  and (subject, html, text) = (
    'Refund issued for order {{order_id}}',
    '<h1>Your refund is on its way</h1><p>We refunded {{amount_refunded}} {{currency}} for order <code>{{order_id}}</code>.</p>',
    'We refunded {{amount_refunded}} {{currency}} for order {{order_id}}.');

-- ---------------------------------------------------------------------------------------
-- password_reset. Data: reset_url; optional name and expires_in_minutes.
-- ---------------------------------------------------------------------------------------
-- The link is also written out, for clients that block buttons and for the text part.
update public.email_templates set
  subject = $tpl$Reset your {{brand.shop_name}} password$tpl$,
  preheader = $tpl$Use the link inside to choose a new password{{#if expires_in_minutes}} within {{expires_in_minutes}} minutes{{/if}}. Not you? Ignore this email.$tpl$,
  html = $tpl$<h1 style="margin:0 0 16px; font-size:24px; line-height:32px; font-weight:700;">Reset your password</h1>
<p style="margin:0 0 16px;">{{#if name}}Hi {{name}},{{else}}Hello,{{/if}}</p>
<p style="margin:0 0 24px;">Someone asked to reset the password of your {{brand.shop_name}} account. If it was you, choose a new password with the button below{{#if expires_in_minutes}}; the link works for {{expires_in_minutes}} minutes{{/if}}.</p>
<table role="presentation" border="0" cellpadding="0" cellspacing="0" style="margin:0 0 24px;"><tr><td align="center" bgcolor="{{brand.primary_color}}" style="border-radius:6px; background-color:{{brand.primary_color}};"><a href="{{reset_url}}" target="_blank" style="display:inline-block; padding:12px 24px; font-size:16px; line-height:24px; font-weight:600; color:#ffffff; text-decoration:none; border-radius:6px;">Choose a new password</a></td></tr></table>
<p class="email-muted" style="margin:0 0 16px; font-size:14px; line-height:20px; color:#6b7280;">If the button does not work, copy this link into your browser:<br><a href="{{reset_url}}" target="_blank" style="color:{{brand.primary_color}}; text-decoration:underline; word-break:break-all;">{{reset_url}}</a></p>
<p style="margin:0;">If you did not ask for this, ignore this email: your password stays as it is.</p>
$tpl$,
  text = $tpl$Reset your password

{{#if name}}Hi {{name}},{{else}}Hello,{{/if}}

Someone asked to reset the password of your {{brand.shop_name}} account.
If it was you, open this link to choose a new password{{#if expires_in_minutes}}
(it works for {{expires_in_minutes}} minutes){{/if}}:

{{reset_url}}

If you did not ask for this, ignore this email: your password stays as it is.
$tpl$
where key = 'password_reset'
  and (subject, html, text) = (
    'Reset your password',
    '<p>Someone asked to reset the password for this address. <a href="{{reset_url}}">Choose a new password</a>. If it was not you, ignore this email.</p>',
    'Someone asked to reset the password for this address. Choose a new password: {{reset_url}} — if it was not you, ignore this email.');

-- ---------------------------------------------------------------------------------------
-- quote_submitted. Data: name, quote_id.
-- ---------------------------------------------------------------------------------------
update public.email_templates set
  subject = $tpl$We received your quote request {{quote_id}}$tpl$,
  preheader = $tpl$Thanks, {{name}}. We will reply within one business day.$tpl$,
  html = $tpl$<h1 style="margin:0 0 16px; font-size:24px; line-height:32px; font-weight:700;">We received your quote request</h1>
<p style="margin:0 0 16px;">Hi {{name}},</p>
<p style="margin:0 0 16px;">Thank you for asking {{brand.shop_name}} for a quote. Your reference is <strong>{{quote_id}}</strong>; please mention it if you write to us about this request.</p>
<p style="margin:0 0 16px;">We will look at the details and reply within one business day, with a price and when we can deliver.</p>
<p style="margin:0;">Something to add or correct? Reply to this email{{#if brand.support_email}} or write to <a href="mailto:{{brand.support_email}}" style="color:{{brand.primary_color}}; text-decoration:underline;">{{brand.support_email}}</a>{{/if}}.</p>
$tpl$,
  text = $tpl$We received your quote request

Hi {{name}},

Thank you for asking {{brand.shop_name}} for a quote. Your reference is
{{quote_id}}; please mention it if you write to us about this request.

We will look at the details and reply within one business day, with a price
and when we can deliver.

Something to add or correct? Reply to this email{{#if brand.support_email}} or write to
{{brand.support_email}}{{/if}}.
$tpl$
where key = 'quote_submitted'
  and (subject, html, text) = (
    'We received your quote request {{quote_id}}',
    '<p>Hello {{name}}, we received your quote request <code>{{quote_id}}</code> and will answer within one business day.</p>',
    'Hello {{name}}, we received your quote request {{quote_id}} and will answer within one business day.');
