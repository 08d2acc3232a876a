import { benchAnalytics } from "./analytics.ts";
import { benchEmail } from "./email.ts";
import { benchHealth } from "./health.ts";
import { benchInbound } from "./inbound.ts";
import { benchOutbound } from "./outbound.ts";
import { benchStripeWebhook } from "./stripe-webhook.ts";
import { benchStripeProfile } from "./stripe-profile.ts";

/** Benchmarks by name; each prints ratios against a baseline measured in the same run. */
const BENCHES: Record<string, () => Promise<void>> = {
  "stripe-webhook": benchStripeWebhook,
  "stripe-profile": benchStripeProfile,
  email: benchEmail,
  outbound: benchOutbound,
  analytics: benchAnalytics,
  inbound: benchInbound,
  health: benchHealth,
};

// `--rounds N` (benches that repeat their runs take the median); anything else is a bench name.
const args = process.argv.slice(2);
const names: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--rounds") process.env.BENCH_ROUNDS = args[++i];
  else if (args[i].startsWith("--rounds=")) process.env.BENCH_ROUNDS = args[i].slice("--rounds=".length);
  else names.push(args[i]);
}
const unknown = names.filter((name) => !BENCHES[name]);
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(", ")}. Available: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) await BENCHES[name]();
process.exit(0);
