// The servers' own messages (start, certificate reloads, shutdown, failures): one line each on
// stderr, so stdout stays free for what a person is meant to read or copy. Never whole objects.

export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

export const stderrLogger: Logger = {
  info: (message) => process.stderr.write(`faas-admission: ${message}\n`),
  error: (message) => process.stderr.write(`faas-admission: error: ${message}\n`),
};
