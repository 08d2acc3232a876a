import type { ServerResponse } from "node:http";
import type { FailureQueue } from "./failures.ts";
import type { IdempotencyStore } from "./idempotency.ts";
import type { Inbox } from "./inbox.ts";
import type { RateLimiter } from "./rate-limit.ts";
import type { WebhookDispatcher } from "./webhooks.ts";

/** Everything one stand-in instance keeps in memory, shared by the route handlers. */
export interface StandInState {
  inbox: Inbox;
  idempotency: IdempotencyStore;
  limiter: RateLimiter;
  failures: FailureQueue;
  dispatcher: WebhookDispatcher;
  autoEvents: boolean;
  /** Sends answered from the idempotency store instead of sending again: what the keys absorbed. */
  replays: number;
  /** Requests deliberately left unanswered; destroyed on reset and close so nothing leaks. */
  held: Set<ServerResponse>;
  log: (line: string) => void;
}

/** Returns the instance to a fresh state without restarting the HTTP server. */
export function resetState(state: StandInState): void {
  state.dispatcher.cancelAll();
  for (const res of state.held) res.destroy();
  state.held.clear();
  state.inbox.clear();
  state.idempotency.clear();
  state.limiter.clear();
  state.failures.clear();
  state.replays = 0;
}
