// The time budget of one review. kube-apiserver appends `?timeout=<timeoutSeconds>s` to every
// webhook call and gives up after that long, applying failurePolicy; the runtime reads it into
// RequestInfo.timeoutMs (parseApiserverTimeout).
export interface Budget {
  readonly seconds: number;
  /** `request`: the request's `?timeout=`; `default`: WEBHOOK_TIMEOUT_SECONDS. */
  readonly source: 'request' | 'default';
}

/** The budget the request states, or the configured default when it states none usable. */
export function budgetOf(timeoutMs: number | undefined, defaultSeconds: number): Budget {
  if (timeoutMs === undefined || !(timeoutMs > 0)) return { seconds: defaultSeconds, source: 'default' };
  return { seconds: timeoutMs / 1000, source: 'request' };
}
