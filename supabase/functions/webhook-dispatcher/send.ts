import { pinnedPost } from "../_shared/pinned-request.ts";

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

/**
 * POSTs one delivery to the addresses the SSRF guard checked (see pinnedPost: no second DNS
 * lookup, so no rebinding). Redirects are not followed (a 3xx is an answer to retry, not a hop
 * to another host the guard never saw), the whole exchange has `timeoutMs`, and only the first
 * `bodyBytes` of the answer are read, so a hostile receiver cannot make the dispatcher buffer.
 */
export async function postDelivery(
  url: URL,
  addresses: string[],
  body: string,
  headers: Record<string, string>,
  { timeoutMs, bodyBytes }: SendLimits,
): Promise<AttemptResult> {
  const started = performance.now();
  try {
    const answer = await pinnedPost(
      url,
      addresses,
      {
        "content-type": "application/json",
        "user-agent": "commerce-integrations-webhooks/1",
        ...headers,
      },
      body,
      { timeoutMs, bodyBytes },
    );
    const retryAfter = answer.headers["retry-after"];
    return {
      status: answer.status,
      body: answer.body,
      retryAfterSeconds: retryAfterSeconds(typeof retryAfter === "string" ? retryAfter : null),
      error: answer.status >= 200 && answer.status < 300 ? null : `HTTP ${answer.status}`,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    const message = (error as Error).message;
    return {
      status: null,
      body: "",
      retryAfterSeconds: null,
      error: message.startsWith("timed out") ? message : `request failed: ${message}`,
      durationMs: Math.round(performance.now() - started),
    };
  }
}
