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
