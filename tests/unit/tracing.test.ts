import {
  type Attributes,
  type Context,
  context,
  type Exception,
  type Span,
  type SpanContext,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { afterEach, describe, expect, it } from "vitest";
import { applyOrRecordFailure } from "../../supabase/functions/_shared/inbound-event.ts";
import { inSpan, TRACER_NAME } from "../../supabase/functions/_shared/telemetry/tracing.ts";

/** A finished span as the in-memory provider keeps it. */
interface Recorded {
  scope: string;
  name: string;
  attributes: Attributes;
  status: SpanStatus;
  exceptions: Exception[];
  ended: boolean;
}

/** The least of a recording span: attributes, status, exceptions, end. */
class MemorySpan implements Span {
  constructor(readonly record: Recorded, private readonly ids: SpanContext) {}
  spanContext = () => this.ids;
  setAttribute(key: string, value: Attributes[string]) {
    this.record.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes) {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent = () => this;
  addLink = () => this;
  addLinks = () => this;
  setStatus(status: SpanStatus) {
    this.record.status = status;
    return this;
  }
  updateName = () => this;
  end() {
    this.record.ended = true;
  }
  isRecording = () => !this.record.ended;
  recordException(exception: Exception) {
    this.record.exceptions.push(exception);
  }
}

const hex = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");

/** A TracerProvider that keeps every span in `spans`, so no SDK is needed. */
function memoryProvider(): TracerProvider & { spans: Recorded[] } {
  const spans: Recorded[] = [];
  const tracer = (scope: string): Tracer => {
    const startSpan = (name: string, options: SpanOptions = {}) => {
      const record: Recorded = {
        scope,
        name,
        attributes: { ...options.attributes },
        status: { code: SpanStatusCode.UNSET },
        exceptions: [],
        ended: false,
      };
      spans.push(record);
      return new MemorySpan(record, { traceId: hex(16), spanId: hex(8), traceFlags: 1 });
    };
    return {
      startSpan,
      startActiveSpan(name: string, ...rest: unknown[]) {
        const fn = rest.at(-1) as (span: Span) => unknown;
        const options = (rest.length > 1 ? rest[0] : {}) as SpanOptions;
        const parent = (rest.length > 2 ? rest[1] : context.active()) as Context;
        const span = startSpan(name, options);
        return context.with(trace.setSpan(parent, span), fn, undefined, span);
      },
    } as Tracer;
  };
  return { spans, getTracer: tracer };
}

afterEach(() => trace.disable());

describe("inSpan", () => {
  it("with no tracer provider registered, hands fn a non-recording span and passes its result and throws through", async () => {
    expect(await inSpan("noop", { provider: "stripe" }, (span) => Promise.resolve(span.isRecording()))).toBe(false);
    await expect(inSpan("noop", {}, () => Promise.reject(new Error("nope")))).rejects.toThrow("nope");
  });

  it("records a span with its attributes and the outcome fn sets, under the suite's tracer", async () => {
    const provider = memoryProvider();
    trace.setGlobalTracerProvider(provider);
    const result = await inSpan("webhook.verify", { provider: "stripe" }, (span) => {
      span.setAttribute("outcome", "verified");
      return Promise.resolve(42);
    });
    expect(result).toBe(42);
    expect(provider.spans).toEqual([{
      scope: TRACER_NAME,
      name: "webhook.verify",
      attributes: { provider: "stripe", outcome: "verified" },
      status: { code: SpanStatusCode.UNSET },
      exceptions: [],
      ended: true,
    }]);
  });

  it("records a throw as an exception, status ERROR and the error's code as the outcome, then rethrows", async () => {
    const provider = memoryProvider();
    trace.setGlobalTracerProvider(provider);
    const refusal = Object.assign(new Error("The signature does not match."), { code: "invalid_signature" });
    await expect(inSpan("webhook.verify", { provider: "resend" }, () => Promise.reject(refusal))).rejects.toBe(refusal);
    await expect(inSpan("other", {}, () => Promise.reject("a string"))).rejects.toBe("a string");
    expect(provider.spans.map(({ name, attributes, status, exceptions, ended }) => ({
      name,
      outcome: attributes.outcome,
      status,
      exceptions,
      ended,
    }))).toEqual([
      {
        name: "webhook.verify",
        outcome: "invalid_signature",
        status: { code: SpanStatusCode.ERROR, message: "The signature does not match." },
        exceptions: [refusal],
        ended: true,
      },
      {
        name: "other",
        outcome: "error",
        status: { code: SpanStatusCode.ERROR, message: "a string" },
        exceptions: ["a string"],
        ended: true,
      },
    ]);
  });

  it("a record's span carries the provider, the event and the stored status as its outcome", async () => {
    const provider = memoryProvider();
    trace.setGlobalTracerProvider(provider);
    const event = { provider: "stripe", id: "evt_1", type: "checkout.session.completed" };
    const recorded = () => Promise.resolve();
    await applyOrRecordFailure(event, () => Promise.resolve({ status: "processed", outcome: "paid", duplicate: true }), recorded);
    await applyOrRecordFailure(event, () => Promise.reject(new Error("no such order")), recorded);
    const key = { provider: "stripe", "event.id": "evt_1", "event.type": "checkout.session.completed" };
    expect(provider.spans.map((span) => [span.name, span.attributes])).toEqual([
      ["webhook.record", { ...key, outcome: "processed", duplicate: true }],
      ["webhook.record", { ...key, outcome: "failed", duplicate: false }],
    ]);
  });
});
