import type { IncomingMessage, ServerResponse } from "node:http";

/** Resend's documented maximum request size (an email including attachments). */
export const MAX_BODY_BYTES = 40 * 1024 * 1024;

/** Thrown by `readBody` when a client sends more than the limit. */
export class BodyTooLargeError extends Error {}

/** Sends a JSON body; `body` may be pre-serialised so replays go out byte for byte. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** Sends an error in Resend's shape: `{ statusCode, name, message }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  name: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { statusCode: status, name, message }, headers);
}

/** Sends an HTML page. */
export function sendHtml(res: ServerResponse, html: string, headers: Record<string, string> = {}): void {
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": String(Buffer.byteLength(html)),
    ...headers,
  });
  res.end(html);
}

/** Reads the whole request body as UTF-8, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLargeError(`Request body exceeds ${limit} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Parses JSON without throwing; an empty body counts as `undefined`. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** The API key from `Authorization: Bearer <key>`, or null when it is missing or empty. */
export function apiKeyOf(req: IncomingMessage): string | null {
  const match = /^Bearer\s+(\S.*)$/i.exec(req.headers.authorization ?? "");
  const key = match?.[1].trim();
  return key ? key : null;
}
