import type { DashboardConfig } from "./config.ts";
import { clearCredential, getCredential } from "./session.ts";

/** An API refusal, with the contract's code and message. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly details?: unknown) {
    super(message);
  }
}

/** Raised when the credential is missing, expired or refused: the app goes back to sign-in with the message. */
export class SignedOut extends Error {}

let config: DashboardConfig = { url: "" };

/** Sets where the API is. */
export function configureApi(next: DashboardConfig): void {
  config = next;
}

/**
 * Calls `/functions/v1/<path>` with the credential as a Bearer token. 401 clears the
 * credential and raises SignedOut; any other refusal raises ApiError with the API's message.
 */
export async function api<T = any>(path: string, options: { method?: string; body?: unknown } = {}): Promise<T> {
  const token = getCredential();
  if (!token) throw new SignedOut("Sign in to continue.");
  let response: Response;
  try {
    response = await fetch(`${config.url}/functions/v1/${path}`, {
      method: options.method ?? (options.body === undefined ? "GET" : "POST"),
      headers: {
        authorization: `Bearer ${token}`,
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "unreachable", `The project at ${config.url || location.origin} could not be reached.`);
  }
  const text = await response.text();
  const body = text ? safeJson(text) : null;
  if (response.status === 401) {
    clearCredential();
    throw new SignedOut(body?.error?.message ?? "Your key was refused or has expired. Sign in again.");
  }
  if (!response.ok) {
    throw new ApiError(response.status, body?.error?.code ?? "error", body?.error?.message ?? response.statusText, body?.error?.details);
  }
  return body as T;
}

function safeJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
