// The servers' own messages (start, certificate reloads, shutdown, failures): one line each on
// stderr, so stdout stays free for what a person is meant to read or copy. Never whole objects.
// (Review logs are JSON lines from shared/telemetry/log.ts, a pino Logger: another thing.)

export interface ServerLog {
  info(message: string): void;
  error(message: string): void;
}

export const stderrLog: ServerLog = {
  info: (message) => process.stderr.write(`faas-admission: ${message}\n`),
  error: (message) => process.stderr.write(`faas-admission: error: ${message}\n`),
};
