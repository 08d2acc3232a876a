import { expect } from "vitest";
import { signedSample } from "../../supabase/functions/_shared/webhook-verify/samples.ts";
import type { OwnStack } from "./own-stack.ts";

/** An answer: status, body (JSON, or the text when it is not), headers. */
export interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

/** A generic HMAC source as the sources API created it. */
export interface HmacSource {
  id: string;
  url: string;
  secret: string;
  verifier_options: Record<string, unknown>;
}

/**
 * Clients for the operations tests, which run on a stack of their own (`own()`, started in
 * beforeAll): calls to its functions with the service role key unless `token` says otherwise,
 * hmac sources created through the API, and their signed samples.
 */
export function operationsClient(own: () => OwnStack) {
  const base = () => `${own().stack.env.SUPABASE_URL}/functions/v1`;
  const call = async (method: string, path: string, options: { body?: unknown; token?: string | null } = {}): Promise<Answer> => {
    const token = options.token === undefined ? own().stack.env.SUPABASE_SERVICE_ROLE_KEY : options.token;
    const response = await fetch(`${base()}/${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: Prometheus' text format, kept as text.
    }
    return { status: response.status, body, headers: response.headers };
  };
  return {
    base,
    call,
    /** Creates an hmac source whose event id is `$.id`, with `fields` on top. */
    async source(fields: Record<string, unknown>): Promise<HmacSource> {
      const created = await call("POST", "webhook-sources", {
        body: { name: "ops", verifier: "hmac", event_id: "$.id", ...fields },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      return created.body;
    },
    /** A fresh signed sample for the source. */
    sample: (s: HmacSource, type?: string) =>
      signedSample({ kind: "hmac", secret: s.secret, options: s.verifier_options, url: s.url, type }),
    /** Posts a signed request; answers the status. */
    post: (request: { url: string; headers: Record<string, string>; body: string }) =>
      fetch(request.url, { method: "POST", headers: request.headers, body: request.body }).then((r) => r.status),
  };
}
