import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

// `npm start -- --otel`: Deno's built-in OpenTelemetry exports only over OTLP (it has no console
// exporter), so the stack runs this tiny OTLP/HTTP JSON receiver and prints each span on one
// line. Traces are all it reads; the metrics and logs Deno also sends are acknowledged and
// dropped.

/** One received span, flattened from OTLP's JSON. */
export interface ReceivedSpan {
  /** The exporting process's `service.name`: the function (see spawnFunction). */
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  durationMs: number;
  attributes: Record<string, unknown>;
  /** OTLP's status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
type OtlpAttributes = { key: string; value: OtlpValue }[] | undefined;
interface OtlpSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpAttributes;
  status?: { code?: number };
}
interface OtlpTraces {
  resourceSpans?: { resource?: { attributes?: OtlpAttributes }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function valueOf(value: OtlpValue): unknown {
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return (value.arrayValue?.values ?? []).map(valueOf);
}

const attributesOf = (attributes: OtlpAttributes) =>
  Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, valueOf(value)]));

/** The spans of one OTLP/HTTP JSON export request (`POST /v1/traces`). */
export function spansOf(body: OtlpTraces): ReceivedSpan[] {
  return (body.resourceSpans ?? []).flatMap((resource) => {
    const service = String(attributesOf(resource.resource?.attributes)["service.name"] ?? "unknown");
    return (resource.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        service,
        name: span.name,
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? "",
        durationMs: Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6,
        attributes: attributesOf(span.attributes),
        status: span.status?.code ?? 0,
      }))
    );
  });
}

/** `[stripe-webhook] span webhook.verify 1.2 ms trace=4bf92f35 provider=stripe outcome=verified`. */
export function formatSpan(span: ReceivedSpan): string {
  const fields = Object.entries(span.attributes).map(([key, value]) => `${key}=${JSON.stringify(value)}`);
  const error = span.status === 2 ? " ERROR" : "";
  return `[${span.service}] span ${span.name} ${span.durationMs.toFixed(1)} ms${error} trace=${span.traceId.slice(0, 8)} ${
    fields.join(" ")
  }`.trimEnd();
}

/** A running receiver: where to point `OTEL_EXPORTER_OTLP_ENDPOINT`. */
export interface SpanReceiver {
  endpoint: string;
  stop(): Promise<void>;
}

/** Receives OTLP/HTTP JSON on a free loopback port and hands every span to `onSpan`. */
export async function startSpanReceiver(onSpan: (span: ReceivedSpan) => void): Promise<SpanReceiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        try {
          for (const span of spansOf(JSON.parse(Buffer.concat(chunks).toString()))) onSpan(span);
        } catch {
          // Not OTLP JSON (an exporter left on protobuf): nothing to print, and never a crash.
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * What a function process needs to export its spans to `endpoint`: Deno's OpenTelemetry on
 * (Deno 2.9 needs no `--unstable-otel`), JSON rather than protobuf, spans sent every 200 ms
 * rather than in Deno's default batches, and console output left on the console (the stack
 * prints it already).
 */
export function otelEnv(endpoint: string): Record<string, string> {
  return {
    OTEL_DENO: "true",
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "200",
    OTEL_DENO_CONSOLE: "ignore",
  };
}
