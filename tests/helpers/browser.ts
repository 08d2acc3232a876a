import { randomInt, randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import { type ServedFunction, serveFunction } from "../../dev/stack/functions.ts";
import { functionUrl, stack } from "./stack.ts";

/** A random documentation-range address: per-address rate limits then never meet another test's. */
export const randomIp = () => `198.18.${randomInt(256)}.${randomInt(1, 255)}`;

/** A session id as the client module makes them. */
export const randomSession = () => `s-${randomUUID()}`;

/** What a browser request to a function got back. */
export interface BrowserResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** Options of {@link browserPost}. */
export interface BrowserOptions {
  ip?: string;
  token?: string;
  headers?: Record<string, string>;
  method?: string;
  /** Another instance of the function than the gateway's (a URL up to the function name). */
  baseUrl?: string;
}

/** A request as a page on the shop's origin sends it: the anon key, JSON, a client address. */
export async function browserRequest(path: string, body: unknown, options: BrowserOptions = {}): Promise<BrowserResponse> {
  const [name] = path.split(/[/?]/);
  const url = options.baseUrl ? `${options.baseUrl}${path.slice(name.length)}` : functionUrl(path);
  const response = await fetch(url, {
    method: options.method ?? "POST",
    headers: {
      authorization: `Bearer ${options.token ?? stack.SUPABASE_ANON_KEY}`,
      "content-type": "application/json",
      origin: "https://shop.example",
      "x-forwarded-for": options.ip ?? randomIp(),
      ...options.headers,
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/**
 * One more instance of function `name` on the test database, with changed settings, for the
 * calling file's tests (started before them, stopped after). Call it directly, bypassing the
 * gateway, at `baseUrl()`.
 */
export function extraInstance(name: string, overrides: Record<string, string>) {
  let served: ServedFunction | undefined;
  beforeAll(async () => {
    const env = { ...stack, SUPABASE_DB_URL: stack.DATABASE_URL, LOG_LEVEL: "error" } as Record<string, string>;
    served = await serveFunction(name, { ...env, CORS_ALLOWED_ORIGINS: "https://shop.example", ...overrides }, () => {});
  });
  afterAll(() => served?.stop());
  return { baseUrl: () => `http://127.0.0.1:${served!.port}/${name}` };
}
