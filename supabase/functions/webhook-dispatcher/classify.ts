/** What one attempt's answer means, in the outbound contract's terms. */
export type AttemptOutcome = "success" | "retry" | "failed" | "gone";

/**
 * 2xx succeeds; 3xx (never followed), 408, 429 and 5xx are retried; 410 fails and disables
 * the endpoint; any other 4xx fails for good. No answer at all (timeout, network) is `null`
 * here and retried.
 */
export function classifyStatus(status: number | null): AttemptOutcome {
  if (status === null) return "retry";
  if (status >= 200 && status < 300) return "success";
  if (status === 410) return "gone";
  if (status >= 300 && status < 400) return "retry";
  if (status === 408 || status === 429 || status >= 500) return "retry";
  return "failed";
}

/** `Retry-After` as seconds from now: delta-seconds or an HTTP date; undefined when absent or invalid. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}
