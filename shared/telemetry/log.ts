// Structured JSON logs, one object per line on stderr (stdout is the CLI's answer). Review
// lines carry trace_id and span_id so a log line leads to its trace and back.
//
// The lines are pino's (level name, ISO time, pid, hostname, the fields, msg; an `err` as
// type, message, stack and its own properties), written by these few lines instead of pino:
// loading pino (sonic-boom, thread-stream, worker_threads, node:assert) was about 20 ms of a
// function's start, for five methods and one serializer. A line is written synchronously
// (stderr is synchronous for files, pipes and terminals on Linux), so none is lost on exit.
import { hostname } from 'node:os';
import { LOG_LEVELS, telemetrySettings } from './settings.ts';

export type LogLevel = (typeof LOG_LEVELS)[number];
type LineLevel = Exclude<LogLevel, 'silent'>;
export type LogFields = Readonly<Record<string, unknown>>;
export type LogMethod = (fieldsOrMessage: LogFields | string, message?: string) => void;

export interface LogDestination {
  write(line: string): unknown;
}

export interface Logger extends Readonly<Record<LineLevel, LogMethod>> {
  readonly level: LogLevel;
  isLevelEnabled(level: LogLevel): boolean;
  /** A logger whose lines carry `bindings` too. */
  child(bindings: LogFields): Logger;
}

const SEVERITY: Readonly<Record<LogLevel, number>> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Number.POSITIVE_INFINITY,
};

const stderr: LogDestination = { write: (line) => process.stderr.write(line) };

export function createLogger(options: { level?: LogLevel; destination?: LogDestination } = {}): Logger {
  const level = options.level ?? telemetrySettings().logLevel;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`unknown log level "${level}"`);
  return loggerWith(level, options.destination ?? stderr, { pid: process.pid, hostname: hostname() });
}

function loggerWith(level: LogLevel, destination: LogDestination, bindings: LogFields): Logger {
  const threshold = SEVERITY[level];
  const method =
    (name: LineLevel): LogMethod =>
    (fieldsOrMessage, message) => {
      if (SEVERITY[name] < threshold) return;
      const fields = typeof fieldsOrMessage === 'string' ? undefined : fieldsOrMessage;
      const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      destination.write(
        `${line({ level: name, time: new Date().toISOString(), ...bindings, ...fields, msg })}\n`,
      );
    };
  return {
    level,
    isLevelEnabled: (name) => SEVERITY[name] >= threshold && name !== 'silent',
    child: (more) => loggerWith(level, destination, { ...bindings, ...more }),
    trace: method('trace'),
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    fatal: method('fatal'),
  };
}

/** The record as JSON: errors as their fields; a value JSON cannot hold (a cycle, a BigInt) never throws. */
function line(record: LogFields): string {
  try {
    return JSON.stringify(record, withErrors);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(record, function safely(this: unknown, key: string, value: unknown) {
      const written = withErrors.call(this, key, value);
      if (typeof written === 'bigint') return written.toString();
      if (typeof written !== 'object' || written === null) return written;
      if (seen.has(written)) return '[Circular]';
      seen.add(written);
      return written;
    });
  }
}

function withErrors(this: unknown, _key: string, value: unknown): unknown {
  return value instanceof Error ? errorFields(value) : value;
}

/** What pino's error serializer writes: type, message, stack, then the error's own properties (code, cause…). */
function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    type: error.constructor?.name || error.name,
    message: error.message,
    stack: error.stack,
  };
  for (const key of Object.keys(error)) fields[key] ??= (error as unknown as Record<string, unknown>)[key];
  if (error.cause !== undefined && !('cause' in fields)) fields.cause = error.cause;
  return fields;
}

let logger: Logger | undefined;

/** The process's logger, created on first use (so LOG_LEVEL is read when it is needed). */
export function log(): Logger {
  logger ??= createLogger();
  return logger;
}

/** Replaces the process's logger (another level or destination). */
export function useLogger(replacement: Logger): void {
  logger = replacement;
}
