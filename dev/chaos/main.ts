import { parseArgs } from "node:util";
import postgres from "postgres";
import { startThrowawayStack } from "../stack/throwaway.ts";
import { databaseOutage } from "./database-outage.ts";
import { duplicateStorm } from "./duplicate-storm.ts";
import { partnerOutage } from "./partner-outage.ts";
import { providerOutage } from "./provider-outage.ts";
import { type ScenarioResult, table } from "./report.ts";
import { growthLines, soakTable } from "./soak-report.ts";
import { postgresProcesses, soak } from "./soak.ts";
import { workerCrash } from "./worker-crash.ts";

const USAGE = `Usage: npm run chaos [-- --scenario <name> --scale <n> --seed <n> --minutes <n>]

Starts a throwaway stack, runs each scenario against it, and prints one row per scenario
(sent, effects, lost, duplicated, refused, wrong, pass); the last line is one JSON object.

Scenarios:
  duplicate-storm  payments and shipments (scale each, default 10000), each delivered 3 times at
                   once in shuffled order, a tenth of the payments refunded out of order
  database-outage  payments (scale) while stripe-webhook's database connection is cut for 5 s
                   a third of the way in; senders retry as Stripe does
  provider-outage  emails (scale) while the Resend stand-in answers 30% 500, 10% 429 and 5%
                   nothing; the queue drains on a controlled clock
  partner-outage   deliveries (scale) to five partners limited to 10/s, whose receivers answer
                   503 for a simulated hour; the clock advances 5 minutes at a time
  worker-crash     emails and deliveries (scale each) while email-service and webhook-dispatcher
                   processes are killed with SIGKILL mid-batch, 10 times each
  soak             (only when named) mixed load at 50 Stripe events/s for --minutes (default
                   10), memory, p99 and queue depths sampled; prints them per minute`;

const SCENARIOS = {
  "duplicate-storm": duplicateStorm,
  "database-outage": databaseOutage,
  "provider-outage": providerOutage,
  "partner-outage": partnerOutage,
  "worker-crash": workerCrash,
} as const;

const { values } = parseArgs({
  options: {
    scenario: { type: "string" },
    minutes: { type: "string" },
    scale: { type: "string" },
    seed: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
const names = values.scenario ? [values.scenario] : Object.keys(SCENARIOS);
const scale = Number(values.scale ?? 10_000);
const minutes = Number(values.minutes ?? 10);
const known = (name: string) => name in SCENARIOS || name === "soak";
if (values.help || !names.every(known) || !Number.isInteger(scale) || scale < 1 || !Number.isInteger(minutes) || minutes < 1) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
console.log("starting a throwaway stack (embedded Postgres, migrations, Deno)...");
// Batches of 10 and a 1 s Resend timeout, so an outage meets many requests and a lost answer
// is retried quickly.
const stack = await startThrowawayStack(
  "chaos",
  { LOG_LEVEL: "warn", DB_POOL_MAX: "20", EMAIL_BATCH_SIZE: "10", RESEND_TIMEOUT_MS: "1000" },
  process.env.CHAOS_DATABASE_URL,
);
const sql = postgres(stack.env.DATABASE_URL, { max: 4, onnotice: () => {} });
const results: ScenarioResult[] = [];
try {
  for (const name of names) {
    const started = performance.now();
    const target = { env: stack.env as unknown as Record<string, string>, sql, log: console.log, serveExtra: stack.serveExtra };
    const seed = Number(values.seed ?? 1);
    if (name === "soak") {
      const result = await soak(target, {
        minutes,
        rate: 50,
        seed,
        pids: () => stack.functions.map((f) => ({ name: f.name, pid: f.process.pid! })),
        // An external cluster's processes are not this machine's to sample.
        postgresPids: () => (process.env.CHAOS_DATABASE_URL ? [] : postgresProcesses(stack.localDir)),
      });
      console.log([soakTable(result), ...growthLines(result)].join("\n"));
      results.push(result);
    } else {
      results.push(await SCENARIOS[name as keyof typeof SCENARIOS](target, scale, seed));
    }
    console.log(`  ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
} finally {
  await sql.end();
  await stack.dispose();
}
console.log(table(results));
const figures = ({ scenario, sent, effects, lost, duplicated, absorbed, refused, wrong, pass }: ScenarioResult) =>
  ({ scenario, sent, effects, lost, duplicated, absorbed, refused, wrong, pass });
console.log(JSON.stringify({ scale, scenarios: results.map(figures) }));
process.exit(results.every((r) => r.pass) ? 0 : 1);
