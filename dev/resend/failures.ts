import { z } from "zod";

/**
 * A failure to inject into the next `count` send requests:
 * - `{ status }` answers with that error status (500, 503, 429, ...), optionally with `retry-after`;
 * - `{ mode: "timeout" }` never answers and stores nothing (the request was lost on the way in);
 * - `{ mode: "drop-response" }` sends the email normally but never answers (lost on the way
 *   out), which is the case where only an idempotency key saves the client from a duplicate;
 * - `{ mode: "pass" }` lets the request through untouched: a gap in a scripted mix of failures.
 */
export type FailureSpec =
  | { status: number; count: number; retryAfter?: number }
  | { mode: "timeout" | "drop-response" | "pass"; count: number };

/** Validates the JSON of `POST /_control/failures`. */
export const failureSpecSchema: z.ZodType<FailureSpec> = z.union([
  z.object({
    status: z.number().int().min(400).max(599),
    count: z.number().int().min(1),
    retryAfter: z.number().int().min(0).optional(),
  }),
  z.object({ mode: z.enum(["timeout", "drop-response", "pass"]), count: z.number().int().min(1) }),
]);

/** A FIFO of pending failures; each send request consumes one unit of the oldest spec. */
export class FailureQueue {
  private readonly pending: FailureSpec[] = [];

  /** Queues `spec.count` failures behind any already pending. */
  add(spec: FailureSpec): void {
    this.pending.push({ ...spec });
  }

  /** The failure the current send request should suffer, if any. */
  take(): FailureSpec | null {
    const head = this.pending[0];
    if (!head) return null;
    head.count -= 1;
    if (head.count <= 0) this.pending.shift();
    return head;
  }

  /** Drops every pending failure. */
  clear(): void {
    this.pending.length = 0;
  }
}
