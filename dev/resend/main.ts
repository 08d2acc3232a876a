import { startResendStandIn } from "./server.ts";

/** Fixed local port, next to the ones `npm start` uses for the gateway (54321) and Postgres (54322). */
const DEFAULT_PORT = 54324;

function numberFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = raw === "Infinity" ? Infinity : Number(raw);
  if (!(value >= 0)) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return value;
}

async function main() {
  const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${line}`);
  const webhookUrl = process.env.RESEND_WEBHOOK_URL || undefined;
  const webhookSecret = process.env.RESEND_WEBHOOK_SECRET || undefined;
  if (Boolean(webhookUrl) !== Boolean(webhookSecret)) {
    throw new Error("Set both RESEND_WEBHOOK_URL and RESEND_WEBHOOK_SECRET (whsec_...), or neither.");
  }
  const standIn = await startResendStandIn({
    port: numberFromEnv("RESEND_STANDIN_PORT", DEFAULT_PORT),
    rateLimitPerSecond: numberFromEnv("RESEND_RATE_LIMIT", 5),
    webhook: webhookUrl && webhookSecret ? { url: webhookUrl, secret: webhookSecret } : undefined,
    log,
  });
  console.log(`Resend stand-in listening on ${standIn.url}`);
  console.log(`  SDK:   new Resend("re_test_key", { baseUrl: "${standIn.url}" })  (or RESEND_BASE_URL=${standIn.url})`);
  console.log(`  Inbox: ${standIn.url}/`);
  console.log(`  Webhooks: ${webhookUrl ?? "off (set RESEND_WEBHOOK_URL and RESEND_WEBHOOK_SECRET)"}`);
  console.log("Press Ctrl-C to stop.");

  const shutdown = async (signal: string) => {
    log(`${signal}: stopping the Resend stand-in...`);
    await standIn.close();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

main().catch((error) => {
  console.error(`Resend stand-in failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
