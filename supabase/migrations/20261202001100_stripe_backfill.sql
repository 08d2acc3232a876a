-- Where `npm run stripe:backfill` is, per mirrored object type (a STRIPE_MIRROR name), so an
-- interrupted run resumes after the last object it wrote instead of listing everything again.
-- started_at is the run's snapshot position: every object of the type is written at
-- (started_at, rank 1, event id ''), so an event created later, or in the same second, wins
-- over the backfill, and the backfill never overwrites what a newer event wrote. A resumed run
-- keeps the interrupted run's started_at and since. finished_at is null while unfinished.
create table public.stripe_backfill_progress (
  object_type text primary key,
  started_at timestamptz not null,
  since timestamptz,
  listed integer not null default 0,
  written integer not null default 0,
  last_id text,
  finished_at timestamptz
);
comment on table public.stripe_backfill_progress is 'Progress of stripe:backfill per object type, for resuming (see dev/stripe/backfill.ts).';
alter table public.stripe_backfill_progress enable row level security;
revoke all on public.stripe_backfill_progress from anon, authenticated;
create policy "no api access" on public.stripe_backfill_progress for all to anon, authenticated using (false) with check (false);
