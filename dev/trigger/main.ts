import { parseArgs } from "node:util";
import { FIXTURES } from "../stripe/fixtures.ts";
import { readStackEnv } from "./stack-env.ts";
import { triggerStripe } from "./stripe.ts";

const USAGE = `Usage: npm run trigger -- stripe <event-type> [--order <uuid>] [--amount <minor units>] [--refund <minor units>]

Sends a realistic, correctly signed sample event to the local stack (npm start) and prints
the answer and, with --order, that order afterwards.

Event types: ${Object.keys(FIXTURES).join(", ")}`;

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      order: { type: "string" },
      amount: { type: "string" },
      refund: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  const [provider, type] = positionals;
  if (values.help || provider !== "stripe" || !type) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const env = readStackEnv();
  const ok = await triggerStripe({
    type,
    orderId: values.order,
    amount: values.amount ? Number(values.amount) : undefined,
    refund: values.refund ? Number(values.refund) : undefined,
    functionsUrl: env.SUPABASE_URL,
    secret: env.STRIPE_WEBHOOK_SECRET.split(",")[0],
    databaseUrl: env.DATABASE_URL,
  });
  process.exit(ok ? 0 : 1);
}

main().catch((error) => {
  console.error(`trigger failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
