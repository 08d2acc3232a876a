/** What one HTTP attempt returned. */
export interface AttemptResult {
  status: number | null;
  /** The first 2 KB of the answer, for the attempt log. */
  body: string;
  retryAfter: string | null;
  error: string | null;
  durationMs: number;
}

const RESPONSE_KEEP_BYTES = 2048;

async function readPrefix(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < RESPONSE_KEEP_BYTES) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes.subarray(0, RESPONSE_KEEP_BYTES)).slice(0, RESPONSE_KEEP_BYTES);
}

/**
 * POSTs one delivery. Redirects are not followed (a 3xx is an answer to retry, not a hop to
 * another host the SSRF guard never saw), the whole exchange has `timeoutMs`, and only the
 * first 2 KB of the answer is read, so a hostile receiver cannot make the dispatcher buffer.
 */
export async function postDelivery(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<AttemptResult> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: "POST",
      redirect: "manual",
      signal,
      headers: { "content-type": "application/json", "user-agent": "commerce-integrations-webhooks/1", ...headers },
      body,
    });
    const text = await readPrefix(response);
    return {
      status: response.status,
      body: text,
      retryAfter: response.headers.get("retry-after"),
      error: response.ok ? null : `HTTP ${response.status}`,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    const timedOut = signal.aborted;
    return {
      status: null,
      body: "",
      retryAfter: null,
      error: timedOut ? `timed out after ${timeoutMs} ms` : `request failed: ${(error as Error).message}`,
      durationMs: Math.round(performance.now() - started),
    };
  }
}
