import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { readStackEnv } from "../trigger/stack-env.ts";
import { verifyDelivery } from "./verify.ts";

const USAGE = `Usage: npm run receiver -- [--port 54330] [--types payment.completed,order.*]

Starts a partner's webhook receiver on 127.0.0.1, registers it with the local stack through
the management API (webhook-endpoints, with the service role key from .local/stack.env),
and prints every delivery it receives after verifying it with the standardwebhooks library.
Ctrl-C deletes the endpoint again.`;

async function main() {
  const { values } = parseArgs({
    options: { port: { type: "string", default: "54330" }, types: { type: "string", default: "*" }, help: { type: "boolean" } },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const env = readStackEnv();
  const api = `${env.SUPABASE_URL}/functions/v1/webhook-endpoints`;
  const auth = { authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}`, "content-type": "application/json" };
  const seen = new Set<string>();
  let secret = "";

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString();
      try {
        const event = verifyDelivery(secret, body, req.headers) as { id: string; type: string };
        // Retries carry the same webhook-id: process each event once.
        const repeat = seen.has(event.id);
        seen.add(event.id);
        console.log(`\n✔ verified ${event.type} ${event.id}${repeat ? " (redelivery, ignored)" : ""}`);
        if (!repeat) console.log(JSON.stringify(event, null, 2));
        res.writeHead(204).end();
      } catch (error) {
        console.log(`\n✘ rejected a delivery: ${(error as Error).message}`);
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(values.port), "127.0.0.1", resolve));

  const created = await fetch(api, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({
      url: `http://127.0.0.1:${values.port}/webhooks`,
      event_types: values.types!.split(",").map((type) => type.trim()),
      description: "npm run receiver",
    }),
  });
  const endpoint = await created.json();
  if (created.status !== 201) throw new Error(`registration failed (${created.status}): ${JSON.stringify(endpoint)}`);
  secret = endpoint.secret;
  console.log(`Receiver listening on http://127.0.0.1:${values.port}/webhooks`);
  console.log(`Registered endpoint ${endpoint.id} for ${endpoint.event_types.join(", ")}; waiting for deliveries...`);

  process.on("SIGINT", async () => {
    await fetch(`${api}/${endpoint.id}`, { method: "DELETE", headers: auth }).catch(() => {});
    console.log(`\nDeleted endpoint ${endpoint.id}.`);
    process.exit(0);
  });
}

main().catch((error) => {
  console.error(`receiver failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
