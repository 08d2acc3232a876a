/** Kinds of request failure the securityLogger records; see security-logger.ts. */
export type SecurityKind =
  | "signature_failure"
  | "replay"
  | "auth_failure"
  | "rate_limited"
  | "payload_too_large"
  | "malformed_payload"
  | "ssrf_blocked"
  | "unknown_source"
  | "forbidden";

/**
 * The security kind each refusal code is recorded under where it is raised with one (the
 * `security` option below): what a check of the securityLogger's counts expects for an answer's
 * code. Two codes are also raised without a kind behind valid credentials: `forbidden` for a
 * tenant's request on another tenant's rows, `invalid_request` for an operator's invalid settings.
 */
export const SECURITY_KIND_OF_CODE: Readonly<Record<string, SecurityKind>> = {
  missing_signature: "signature_failure",
  invalid_signature: "signature_failure",
  timestamp_outside_tolerance: "replay",
  missing_credentials: "auth_failure",
  invalid_credentials: "auth_failure",
  unauthorized: "auth_failure",
  forbidden: "forbidden",
  rate_limited: "rate_limited",
  payload_too_large: "payload_too_large",
  invalid_json: "malformed_payload",
  invalid_request: "malformed_payload",
  unstorable_payload: "malformed_payload",
  invalid_cert_url: "ssrf_blocked",
  forbidden_url: "ssrf_blocked",
  source_not_found: "unknown_source",
};

/** Options of an {@link HttpError} beyond its status, code and message. */
export interface HttpErrorOptions {
  /** Failing paths of a schema violation, returned to the caller as `details`. */
  details?: unknown;
  /** Extra response headers, such as `Retry-After`. */
  headers?: Record<string, string>;
  /** Set when the failure is a security event worth recording. */
  security?: SecurityKind;
}

/** An error that becomes a contract-shaped JSON error response. */
export class HttpError extends Error {
  readonly details?: unknown;
  readonly headers: Record<string, string>;
  readonly security?: SecurityKind;

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options: HttpErrorOptions = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.security = options.security;
  }
}

/**
 * Builds a JSON response and stamps it with the request id. A string body with a non-JSON
 * content type (Prometheus' text format) is sent as it is.
 */
export function jsonResponse(
  status: number,
  body: unknown,
  requestId: string,
  headers: Record<string, string> = {},
): Response {
  // 204, 205 and 304 must not carry a body; a Response with one throws.
  const empty = status === 204 || status === 205 || status === 304;
  const raw = typeof body === "string" &&
    !(headers["content-type"] ?? "application/json").startsWith("application/json");
  return new Response(empty ? null : raw ? body as string : JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "x-request-id": requestId,
      ...headers,
    },
  });
}

/** The HTTP contract's error body: `{error: {code, message, details?}, requestId}`. */
export function errorResponse(error: HttpError, requestId: string): Response {
  const body = {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
    },
    requestId,
  };
  return jsonResponse(error.status, body, requestId, error.headers);
}
