import { type Attributes, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

/** The instrumentation scope every span of the suite is created under. */
export const TRACER_NAME = "commerce-integrations";

/**
 * Runs `fn` inside an active span `name` (so spans it starts, and Deno's own fetch spans,
 * become its children) and ends the span when `fn` settles. A throw is recorded as an
 * exception with status ERROR, and as the span's `outcome` (the error's code, e.g.
 * `invalid_signature`, else `error`), before it is rethrown. On success `fn` sets the
 * `outcome` itself on the span it is given.
 *
 * With no tracer provider registered (Deno without `OTEL_DENO=true`, or Node) the API hands
 * out a non-recording span and calls `fn` directly: no clock reads, no attributes kept,
 * nothing exported. Deno registers its provider itself when `OTEL_DENO=true`. The tracer
 * is looked up per call, not kept: the API's proxy tracer holds on to the first provider it
 * finds, so a kept one would outlive a provider a test registers and then removes.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      span.recordException(error instanceof Error ? error : message);
      span.setStatus({ code: SpanStatusCode.ERROR, message });
      const code = (error as { code?: unknown } | null)?.code;
      span.setAttribute("outcome", typeof code === "string" ? code : "error");
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Describes the request's server span (Deno.serve's, when `OTEL_DENO=true`) by its route, as
 * OpenTelemetry's HTTP conventions ask: `http.route`, and the span named `POST /fn/:id`
 * rather than `POST`. It also overwrites the URL Deno recorded, query string included (api
 * keys may travel there), with the URL without it. No active span: nothing to do.
 */
export function describeServerSpan(route: string, url: URL): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  span.updateName(route);
  span.setAttributes({ "http.route": route.slice(route.indexOf(" ") + 1), "url.full": url.origin + url.pathname });
  if (url.search) span.setAttribute("url.query", "[REDACTED]");
}
