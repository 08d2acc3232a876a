import { parseArgs } from "node:util";
import { VERIFIER_KINDS } from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { FIXTURES } from "../stripe/fixtures.ts";
import { triggerSource } from "./source.ts";
import { readStackEnv } from "./stack-env.ts";
import { triggerStripe } from "./stripe.ts";

const USAGE = `Usage:
  npm run trigger -- stripe <event-type> [--order <uuid>] [--amount <minor units>] [--refund <minor units>]
  npm run trigger -- <verifier> [event-type] [--source <uuid>]

Sends a realistic, correctly signed sample event to the local stack (npm start) and prints
the answer and what was stored.

stripe (without --source) posts to stripe-webhook. Event types: ${Object.keys(FIXTURES).join(", ")}

Any verifier posts to an inbound source, signed exactly as that provider signs: the source
given with --source, or the "trigger: <verifier>" source, created on first use.
Verifiers: ${VERIFIER_KINDS.join(", ")}`;

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      order: { type: "string" },
      amount: { type: "string" },
      refund: { type: "string" },
      source: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [verifier, type] = positionals;
  const known = (VERIFIER_KINDS as readonly string[]).includes(verifier);
  if (values.help || !verifier || (!known && !values.source) || (verifier === "stripe" && !type && !values.source)) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const env = readStackEnv();
  const ok = verifier === "stripe" && !values.source
    ? await triggerStripe({
      type,
      orderId: values.order,
      amount: values.amount ? Number(values.amount) : undefined,
      refund: values.refund ? Number(values.refund) : undefined,
      functionsUrl: env.SUPABASE_URL,
      secret: env.STRIPE_WEBHOOK_SECRET.split(",")[0],
      databaseUrl: env.DATABASE_URL,
    })
    : await triggerSource({ verifier, type, sourceId: values.source, env });
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`trigger failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
