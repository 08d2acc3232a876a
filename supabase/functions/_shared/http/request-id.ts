const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * `given` (a caller's `x-request-id`) when it is safe to echo into logs and headers, otherwise a
 * new UUID, so one id follows a request through the gateway, the function and the database.
 */
export function requestIdFrom(given: string | null | undefined): string {
  return given && SAFE_REQUEST_ID.test(given) ? given : crypto.randomUUID();
}

/** The request id of `req` (see {@link requestIdFrom}). */
export function requestIdOf(req: Request): string {
  return requestIdFrom(req.headers.get("x-request-id"));
}
