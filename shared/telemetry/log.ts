// Structured JSON logs, one object per line on stderr (stdout is the CLI's answer). Review
// lines carry trace_id and span_id so a log line leads to its trace and back.
import { type DestinationStream, type Logger, pino } from 'pino';
import { telemetrySettings } from './settings.ts';

export type { Logger };

export function createLogger(options: { level?: string; destination?: DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? telemetrySettings().logLevel,
      // Level names, not numbers, and ISO times: readable as they are and by any log store.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 2 }),
  );
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
