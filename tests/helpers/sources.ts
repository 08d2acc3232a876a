import { type SampleInput, signedSample } from "../../supabase/functions/_shared/webhook-verify/samples.ts";
import type { VerifierKind } from "../../supabase/functions/_shared/webhook-verify/types.ts";
import { functionUrl, stack } from "./stack.ts";

/** An answer of the API or of inbound-webhook: status and parsed JSON body (null when empty). */
export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers };
}

/** Calls the webhook-sources API (the service role key unless `token` says otherwise). */
export async function sourcesApi(
  method: string,
  path: string,
  options: { body?: unknown; token?: string | null } = {},
): Promise<Answer> {
  const token = options.token === undefined ? stack.SUPABASE_SERVICE_ROLE_KEY : options.token;
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${functionUrl("webhook-sources")}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return answerOf(response);
}

/** A source as created: its row as the API shows it, with the URL and the secret shown once. */
export type CreatedSource = Record<string, any> & { id: string; url: string; secret: string | null; verifier: VerifierKind };

/** Creates a source through the API; fails the test unless the answer is 201. */
export async function createSource(body: Record<string, unknown>): Promise<CreatedSource> {
  const created = await sourcesApi("POST", "/", { body });
  if (created.status !== 201) throw new Error(`creating a source answered ${created.status}: ${JSON.stringify(created.body)}`);
  return created.body;
}

// Each test file sends from an address of its own (the test stack trusts the x-forwarded-for
// entry tests send), so the refusals one file provokes never raise another file's security alert.
const CLIENT_ADDRESS = `198.51.100.${1 + Math.floor(Math.random() * 254)}`;

/** Posts a request as `signedSample` built it (optionally altered) to its URL. */
export async function send(
  request: { url: string; headers: Record<string, string>; body: string },
  change: { headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const response = await fetch(request.url, {
    method: "POST",
    headers: { "x-forwarded-for": CLIENT_ADDRESS, ...request.headers, ...change.headers },
    body: change.body ?? request.body,
  });
  return answerOf(response);
}

/** The provider's signed sample for `source` (its own secret unless one is given). */
export function sampleFor(
  source: CreatedSource,
  overrides: Partial<Omit<SampleInput, "kind" | "url">> = {},
) {
  return signedSample({
    kind: source.verifier,
    secret: source.secret,
    options: source.verifier_options,
    url: source.url,
    ...overrides,
  });
}
