import { benchAnalytics } from "./analytics.ts";
import { benchEmail } from "./email.ts";
import { benchHealth } from "./health.ts";
import { benchInbound } from "./inbound.ts";
import { benchOutbound } from "./outbound.ts";
import { benchStripeWebhook } from "./stripe-webhook.ts";

/** Benchmarks by name; each prints ratios against a baseline measured in the same run. */
const BENCHES: Record<string, () => Promise<void>> = {
  "stripe-webhook": benchStripeWebhook,
  email: benchEmail,
  outbound: benchOutbound,
  analytics: benchAnalytics,
  inbound: benchInbound,
  health: benchHealth,
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !BENCHES[name]);
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(", ")}. Available: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) await BENCHES[name]();
process.exit(0);
