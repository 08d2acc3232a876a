/** What one HTTP attempt returned. */
export interface AttemptResult {
  status: number | null;
  /** The start of the answer, for the attempt log. */
  body: string;
  /** `Retry-After` in seconds from now, when the answer has a valid one. */
  retryAfterSeconds: number | null;
  error: string | null;
  durationMs: number;
}

/** How long an attempt may take, and how much of the answer it reads. */
export interface SendLimits {
  timeoutMs: number;
  /** The delivery policy's response_body_limit. */
  bodyBytes: number;
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date; null when absent or invalid. */
function retryAfterSeconds(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

async function readPrefix(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
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
  return new TextDecoder().decode(bytes.subarray(0, limit)).slice(0, limit);
}

/**
 * POSTs one delivery. Redirects are not followed (a 3xx is an answer to retry, not a hop to
 * another host the SSRF guard never saw), the whole exchange has `timeoutMs`, and only the
 * first `bodyBytes` of the answer are read, so a hostile receiver cannot make the dispatcher
 * buffer.
 */
export async function postDelivery(
  url: string,
  body: string,
  headers: Record<string, string>,
  { timeoutMs, bodyBytes }: SendLimits,
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
    const text = await readPrefix(response, bodyBytes);
    return {
      status: response.status,
      body: text,
      retryAfterSeconds: retryAfterSeconds(response.headers.get("retry-after")),
      error: response.ok ? null : `HTTP ${response.status}`,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    const timedOut = signal.aborted;
    return {
      status: null,
      body: "",
      retryAfterSeconds: null,
      error: timedOut ? `timed out after ${timeoutMs} ms` : `request failed: ${(error as Error).message}`,
      durationMs: Math.round(performance.now() - started),
    };
  }
}
