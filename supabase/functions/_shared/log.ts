import { redact } from "./redact.ts";

/** Severity of a log line. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A structured logger bound to one function and request. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** The same logger with more fields on every line (e.g. the request id). */
  with(fields: Record<string, unknown>): Logger;
}

/** Where log lines go; console by default, an array in tests. */
export type LineSink = (line: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * JSON-lines logger. Every field passes through {@link redact}, so a secret handed to a log
 * call by mistake never reaches the log drain.
 */
export function createLogger(
  base: Record<string, unknown>,
  options: { minLevel?: LogLevel; sink?: LineSink } = {},
): Logger {
  const minLevel = ORDER[options.minLevel ?? "info"];
  const sink = options.sink ?? ((line) => console.log(line));
  const emit = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (ORDER[level] < minLevel) return;
    const line = { ts: new Date().toISOString(), level, ...base, msg, ...(redact(fields) as object) };
    sink(JSON.stringify(line));
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    with: (fields) => createLogger({ ...base, ...fields }, options),
  };
}
