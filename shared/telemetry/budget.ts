// The time budget of one review. kube-apiserver appends `?timeout=<timeoutSeconds>s` to every
// webhook call (a Go duration) and gives up after that long, applying failurePolicy.
export interface Budget {
  readonly seconds: number;
  /** `request`: from the request's `?timeout=`; `default`: WEBHOOK_TIMEOUT_SECONDS. */
  readonly source: 'request' | 'default';
}

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};
const GO_DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_DURATION_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Seconds in a Go duration (`10s`, `1m30s`, `1.5s`); undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of text.matchAll(GO_DURATION_PART)) {
    seconds += Number(amount) * (UNIT_SECONDS[unit as string] ?? Number.NaN);
  }
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** The budget from a request's `timeout` parameter, or the configured default. */
export function budgetOf(timeout: string | readonly string[] | undefined, defaultSeconds: number): Budget {
  const text = typeof timeout === 'string' ? timeout : timeout?.[0];
  const seconds = text === undefined ? undefined : parseGoDuration(text.trim());
  if (seconds === undefined || seconds <= 0) return { seconds: defaultSeconds, source: 'default' };
  return { seconds, source: 'request' };
}
