import type { Sql } from "./db.ts";
import type { SecurityKind } from "./http/errors.ts";
import type { LineSink } from "./log.ts";
import { redact } from "./redact.ts";
import { jsonb } from "./sql-json.ts";

/** One security-relevant outcome of a request. */
export interface SecurityEvent {
  kind: SecurityKind;
  /** Who caused it: the client IP for public functions. */
  source: string;
  functionName: string;
  requestId: string;
  details?: Record<string, unknown>;
}

/** Records security events as JSON lines and `security_events` rows; alerts on bursts. */
export interface SecurityLogger {
  /** Never throws: a failing database write is itself logged, and the line is always written. */
  record(event: SecurityEvent): Promise<void>;
}

/** Options of {@link createSecurityLogger}. */
export interface SecurityLoggerOptions {
  sql?: Sql;
  /** More than this many events from one source within the window raise a security_alert. */
  alertThreshold: number;
  alertWindowSeconds: number;
  sink?: LineSink;
}

const SEVERITY: Record<SecurityKind, "info" | "warning"> = {
  signature_failure: "warning",
  replay: "warning",
  auth_failure: "warning",
  rate_limited: "info",
  payload_too_large: "warning",
  malformed_payload: "info",
  // Someone tried to point a webhook at an internal address: worth an operator's look.
  ssrf_blocked: "warning",
  // A request to a source id that does not exist or is disabled: a scanner, or a provider still
  // pointed at a source someone removed.
  unknown_source: "warning",
  // A valid credential that may not do this: a user on an admin API, a tenant reaching past its own.
  forbidden: "warning",
};

/**
 * The securityLogger. Burst detection runs in the database (`record_security_event`), so the
 * threshold holds across every instance of every function, not per isolate.
 */
export function createSecurityLogger(options: SecurityLoggerOptions): SecurityLogger {
  const sink = options.sink ?? ((line) => console.log(line));
  const write = (level: string, type: string, fields: Record<string, unknown>) =>
    sink(JSON.stringify({ ts: new Date().toISOString(), level, type, ...fields }));

  return {
    async record(event) {
      const details = redact(event.details ?? {}) as Record<string, unknown>;
      const severity = SEVERITY[event.kind];
      const line = {
        kind: event.kind,
        severity,
        source: event.source,
        fn: event.functionName,
        requestId: event.requestId,
        details,
      };
      write("warn", "security_event", line);
      if (!options.sql) return;
      try {
        const [row] = await options.sql<{ alert: boolean }[]>`
          select public.record_security_event(
            ${event.kind}, ${severity}, ${event.source}, ${event.functionName}, ${event.requestId},
            ${jsonb(options.sql, details)}, ${options.alertThreshold}, ${options.alertWindowSeconds}
          ) as alert`;
        if (row?.alert) {
          write("error", "security_alert", {
            ...line,
            severity: "critical",
            threshold: options.alertThreshold,
            windowSeconds: options.alertWindowSeconds,
          });
        }
      } catch (error) {
        write("error", "security_event_not_stored", { ...line, error: redact(error) });
      }
    },
  };
}
