import postgres from "postgres";
import { readStackEnv } from "../trigger/stack-env.ts";
import { parseBackfillArgs, USAGE } from "./backfill/args.ts";
import { stripeClient } from "./backfill/lists.ts";
import { BackfillUsageError, progressLine, runBackfill } from "./backfill/run.ts";

// npm run stripe:backfill: lists Stripe objects into the mirror tables, resumable (see
// backfill/run.ts for the position rule). Exit 0 done, 1 failed (run again to resume),
// 2 bad arguments or configuration.

function fail(code: 1 | 2, message: string): never {
  console.error(`stripe:backfill: ${message}`);
  process.exit(code);
}

async function main() {
  const parsed = parseBackfillArgs(process.argv.slice(2));
  if (parsed.kind === "help") {
    console.log(USAGE);
    return;
  }
  if (parsed.kind === "usage_error") {
    fail(2, `${parsed.message} (see --help)`);
  }
  const { args } = parsed;
  const secretKey = process.env.STRIPE_SECRET_KEY?.trim();
  if (!secretKey) fail(2, "STRIPE_SECRET_KEY is not set: export your Stripe secret key (or a restricted key with read access).");
  const apiBase = process.env.STRIPE_API_BASE?.trim() || undefined;
  if (apiBase && !URL.canParse(apiBase)) fail(2, `STRIPE_API_BASE ${apiBase} is not a URL (e.g. http://127.0.0.1:12111).`);
  const databaseUrl = args.databaseUrl ?? process.env.DATABASE_URL ?? readStackEnv().DATABASE_URL;

  const sql = postgres(databaseUrl, { max: 1, prepare: false, onnotice: () => {}, connection: { application_name: "stripe-backfill" } });
  const began = Date.now();
  let failure: { code: 1 | 2; message: string } | undefined;
  try {
    const results = await runBackfill({
      stripe: stripeClient(secretKey, apiBase),
      sql,
      objects: args.objects,
      since: args.since,
      restart: args.restart,
      log: (line) => console.log(line),
    });
    const total = results.reduce((sum, r) => ({ listed: sum.listed + r.listed, written: sum.written + r.written }), { listed: 0, written: 0 });
    console.log(`\nbackfill finished in ${((Date.now() - began) / 1000).toFixed(1)} s: ${total.listed} listed, ${total.written} written, ${total.listed - total.written} kept newer`);
    for (const result of results) console.log(`  ${progressLine(result)}${result.resumed ? " (resumed)" : ""}`);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    failure = error instanceof BackfillUsageError
      ? { code: 2, message }
      : { code: 1, message: `${message}\nWhat was written stays; run the same command again to resume after the last page.` };
  } finally {
    await sql.end({ timeout: 5 });
  }
  if (failure) fail(failure.code, failure.message);
}

main().catch((error) => fail(1, error instanceof Error ? error.message : String(error)));
