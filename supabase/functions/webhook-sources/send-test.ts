import { HttpError } from "../_shared/http/errors.ts";
import { type SampleInput, signedSample } from "../_shared/webhook-verify/samples.ts";

/** What a test send did: the sample it sent, and inbound-webhook's answer (what became of it). */
export interface TestReport {
  sent: { type: string; url: string };
  response: { status: number; body: unknown };
}

const TIMEOUT_MS = 10_000;

/**
 * Signs a realistic sample exactly as the source's provider does and posts it to the
 * source's own public URL, so the whole path is exercised: gateway, verification, dedup,
 * filter and effect. PayPal signs with its private key, which only PayPal has: its samples
 * come from PayPal's webhook simulator (or `npm run trigger -- paypal` locally).
 */
export async function sendTest(fetcher: typeof fetch, input: Omit<SampleInput, "now" | "paypal">): Promise<TestReport> {
  if (input.kind === "paypal") {
    throw new HttpError(
      422,
      "sample_unavailable",
      "Only PayPal can sign as PayPal: send a sample with the webhook simulator in PayPal's developer dashboard.",
    );
  }
  const sample = await signedSample(input);
  let response: Response;
  try {
    response = await fetcher(sample.url, {
      method: "POST",
      headers: sample.headers,
      body: sample.body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new HttpError(
      502,
      "test_unreachable",
      `The source's URL could not be reached: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): reported as the text it is.
  }
  return { sent: { type: sample.type, url: input.url }, response: { status: response.status, body } };
}
