import { parseArgs } from "node:util";
import { MIRRORED_OBJECTS, type MirrorName } from "../../../supabase/functions/_shared/stripe-mirror.ts";

/** The usage text of `npm run stripe:backfill`. */
export const USAGE = `Usage:
  npm run stripe:backfill -- [--objects customers,...] [--since DATE] [--restart] [--database-url URL]

Lists Stripe objects through the API and writes them into the mirror tables (public.stripe_*),
at the position of a snapshot taken when each type's listing started: an event created later
(or in the same second) wins over the backfill, and the backfill never overwrites what a newer
event wrote.

  --objects       comma-separated, default all: ${Object.keys(MIRRORED_OBJECTS).join(", ")}
  --since         only objects created at or after DATE (2026-01-31, or 2026-01-31T12:00:00Z; UTC
                  when no zone is given)
  --restart       start over instead of resuming an interrupted run
  --database-url  default DATABASE_URL, else the local stack's (.local/stack.env)
  -h, --help      this text

An interrupted run resumes where it stopped when run again (progress in
public.stripe_backfill_progress).

Environment: STRIPE_SECRET_KEY (required; a restricted key with read access is enough),
STRIPE_API_BASE (optional, e.g. http://127.0.0.1:12111 for a stand-in).`;

/** What the command line asks for. */
export interface BackfillArgs {
  objects: MirrorName[];
  since?: Date;
  restart: boolean;
  databaseUrl?: string;
}

/** The command line's meaning, `help`, or what is wrong with it (exit 2). */
export type ParsedArgs = { kind: "run"; args: BackfillArgs } | { kind: "help" } | { kind: "usage_error"; message: string };

const DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** `--since`'s value as an instant, or null when it is not a date. */
export function parseSince(value: string): Date | null {
  if (!DATE.test(value)) return null;
  const zoned = value.length <= 10 || /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const at = new Date(zoned);
  return Number.isNaN(at.getTime()) ? null : at;
}

/** Parses `argv` (without node and the script). */
export function parseBackfillArgs(argv: string[]): ParsedArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        objects: { type: "string" },
        since: { type: "string" },
        restart: { type: "boolean" },
        "database-url": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    return { kind: "usage_error", message: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { kind: "help" };
  let objects = Object.keys(MIRRORED_OBJECTS) as MirrorName[];
  if (values.objects !== undefined) {
    const names = values.objects.split(",").map((name) => name.trim()).filter(Boolean);
    const unknown = names.filter((name) => !(name in MIRRORED_OBJECTS));
    if (names.length === 0 || unknown.length > 0) {
      return {
        kind: "usage_error",
        message: `--objects names no mirrored object: ${unknown.join(", ") || "(empty)"}; choose from ${Object.keys(MIRRORED_OBJECTS).join(", ")}`,
      };
    }
    objects = [...new Set(names)] as MirrorName[];
  }
  let since: Date | undefined;
  if (values.since !== undefined) {
    since = parseSince(values.since) ?? undefined;
    if (!since) return { kind: "usage_error", message: `--since ${values.since} is not a date: write 2026-01-31 or 2026-01-31T12:00:00Z` };
  }
  return { kind: "run", args: { objects, since, restart: values.restart ?? false, databaseUrl: values["database-url"] } };
}
