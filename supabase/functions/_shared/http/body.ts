import { HttpError } from "./errors.ts";

/** The default request body limit of the HTTP contract: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(413, "payload_too_large", `Request body exceeds ${maxBytes} bytes.`, {
    security: "payload_too_large",
  });
}

/**
 * Reads the body as UTF-8 text, refusing more than `maxBytes`. A declared Content-Length is
 * refused before reading; a chunked or lying body is cut off as soon as it passes the limit,
 * so a client cannot make the function buffer more than the limit.
 */
export async function readBodyText(req: Request, maxBytes: number): Promise<string> {
  const declared = Number(req.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(maxBytes);
  if (!req.body) return "";

  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}

/**
 * Whether the request carries no body bytes. Stops at the first byte: a body that is there
 * is refused by the caller, so it is never read to find out.
 */
export async function hasNoBody(req: Request): Promise<boolean> {
  if (Number(req.headers.get("content-length")) > 0) return false;
  if (!req.body) return true;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return true;
    if (value.byteLength > 0) {
      await reader.cancel();
      return false;
    }
  }
}
