import postgres from "postgres";
import { signedSample } from "../../supabase/functions/_shared/webhook-verify/samples.ts";
import { VERIFIER_KINDS, type VerifierKind } from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { serveTestCertificate, testSigningKey } from "../paypal/test-certificate.ts";

/** Options of `npm run trigger -- <verifier> [type] [--source <id>]`. */
export interface SourceTriggerOptions {
  verifier: string;
  type?: string;
  /** An existing source to post to; by default the `trigger: <verifier>` source, created on first use. */
  sourceId?: string;
  env: Record<string, string>;
}

interface SourceRow {
  id: string;
  verifier: VerifierKind;
  secret: string | null;
  verifier_options: Record<string, unknown>;
}

// What a trigger source of each scheme is created with, where the scheme needs more than a name.
const TRIGGER_SETTINGS: Partial<Record<VerifierKind, Record<string, unknown>>> = {
  stripe: { secret: `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64")}` },
  shopify: { secret: "trigger-shopify-client-secret" },
  close: { secret: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex") },
  twilio: { secret: "trigger-twilio-auth-token" },
  paypal: { verifier_options: { webhook_id: "WH-TRIGGER" } },
  basic: { verifier_options: { username: "trigger" } },
};

/** The local `trigger: <verifier>` source, created through the webhook-sources API the first time. */
async function sourceForTrigger(sql: postgres.Sql, kind: VerifierKind, env: Record<string, string>): Promise<SourceRow> {
  const name = `trigger: ${kind}`;
  const [existing] = await sql<SourceRow[]>`
    select id, verifier, secret, verifier_options from public.webhook_sources
    where name = ${name} and verifier = ${kind} and active order by created_at limit 1`;
  if (existing) return existing;
  const response = await fetch(`${env.SUPABASE_URL}/functions/v1/webhook-sources`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.SUPABASE_SERVICE_ROLE_KEY}` },
    body: JSON.stringify({ name, verifier: kind, ...TRIGGER_SETTINGS[kind] }),
  });
  const body = await response.json();
  if (response.status !== 201) throw new Error(`creating the ${name} source answered ${response.status}: ${JSON.stringify(body)}`);
  console.log(`created source ${body.id} (${name}): ${body.url}`);
  return body as SourceRow;
}

/**
 * Signs a realistic sample exactly as the source's provider does and posts it to the source,
 * then prints the answer and the stored event. PayPal samples are signed with the test key,
 * whose certificate this command serves on 127.0.0.1 while it runs (npm start's
 * PAYPAL_CERT_HOSTS lets inbound-webhook fetch it).
 */
export async function triggerSource(options: SourceTriggerOptions): Promise<boolean> {
  const sql = postgres(options.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  const certificate = await serveTestCertificate();
  try {
    let source: SourceRow;
    if (options.sourceId) {
      const [row] = await sql<SourceRow[]>`
        select id, verifier, secret, verifier_options from public.webhook_sources where id = ${options.sourceId}`;
      if (!row) throw new Error(`No source ${options.sourceId} in the local database.`);
      source = row;
    } else {
      if (!VERIFIER_KINDS.includes(options.verifier as VerifierKind)) {
        throw new Error(`Unknown verifier ${options.verifier}. Known: ${VERIFIER_KINDS.join(", ")}`);
      }
      source = await sourceForTrigger(sql, options.verifier as VerifierKind, options.env);
    }
    const url = `${options.env.SUPABASE_URL}/functions/v1/inbound-webhook/${source.id}`;
    const sample = await signedSample({
      kind: source.verifier,
      secret: source.secret,
      options: source.verifier_options,
      url,
      type: options.type,
      paypal: { privateKey: await testSigningKey(), certUrl: certificate.url },
    });
    console.log(`POST ${sample.url}\n  ${source.verifier} ${sample.type}`);
    const response = await fetch(sample.url, { method: "POST", headers: sample.headers, body: sample.body });
    const answer = await response.json();
    console.log(`\n${response.status} ${response.statusText}`);
    console.log(JSON.stringify(answer, null, 2));
    if (answer.id) {
      const [event] = await sql`
        select id, event_id, event_type, status, outcome, error, attempts, received_at
        from public.webhook_events where source_id = ${source.id} and event_id = ${answer.id}`;
      console.log("\nstored in webhook_events:");
      console.log(event);
    }
    return response.ok;
  } finally {
    await certificate.close();
    await sql.end();
  }
}
