// The admission budget of a request: the webhooks it is sent to in the apiserver's order
// (mutating ones one after another, by configuration name then list order, some twice when
// reinvoked; validating ones in parallel), their timeouts against the request's deadline.
import type { Webhook } from './matching.ts';

export interface BudgetEntry {
  readonly configuration: string;
  readonly webhook: Webhook;
  readonly validating: boolean;
  readonly ours: boolean;
  readonly function?: string;
}

export interface Budget {
  readonly mutatingSeconds: number;
  /** A second round of the IfNeeded webhooks, when another mutating webhook may change the object. */
  readonly reinvocationSeconds: number;
  /** Validating webhooks run in parallel: the slowest counts. */
  readonly validatingSeconds: number;
  readonly worstSeconds: number;
  readonly deadlineSeconds: number;
  readonly over: boolean;
}

/** admissionregistration/v1 default. */
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const timeoutOf = (webhook: Webhook) => webhook.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;

/** The apiserver's order: mutating configurations sorted by name, webhooks in list order. */
export function apiserverOrder(entries: readonly BudgetEntry[]): BudgetEntry[] {
  return [...entries].sort((a, b) => {
    if (a.validating !== b.validating) return a.validating ? 1 : -1;
    return a.configuration < b.configuration ? -1 : a.configuration > b.configuration ? 1 : 0;
  });
}

export function budgetOf(entries: readonly BudgetEntry[], deadlineSeconds: number): Budget {
  const mutating = entries.filter((e) => !e.validating);
  const mutatingSeconds = mutating.reduce((sum, e) => sum + timeoutOf(e.webhook), 0);
  const reinvocable = mutating.filter((e) => e.webhook.reinvocationPolicy === 'IfNeeded');
  const reinvocationSeconds =
    mutating.length > 1 ? reinvocable.reduce((sum, e) => sum + timeoutOf(e.webhook), 0) : 0;
  const validatingSeconds = Math.max(
    0,
    ...entries.filter((e) => e.validating).map((e) => timeoutOf(e.webhook)),
  );
  const worstSeconds = mutatingSeconds + reinvocationSeconds + validatingSeconds;
  return {
    mutatingSeconds,
    reinvocationSeconds,
    validatingSeconds,
    worstSeconds,
    deadlineSeconds,
    over: worstSeconds > deadlineSeconds,
  };
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
}

/** The functions' p50 and p99 over the last hour, from the project's duration histogram. */
export async function latencies(prometheus: string, window = '1h'): Promise<Map<string, Partial<Latency>>> {
  const result = new Map<string, Partial<Latency>>();
  const series = '{__name__=~"admission_review_duration(_seconds)?_bucket"}';
  for (const [key, q] of [
    ['p50', 0.5],
    ['p99', 0.99],
  ] as const) {
    const query = `histogram_quantile(${q}, sum by (le, admission_function) (rate(${series}[${window}])))`;
    const url = new URL('/api/v1/query', prometheus);
    url.searchParams.set('query', query);
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`${url.origin}: HTTP ${response.status}`);
    const body = (await response.json()) as {
      data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
    };
    for (const { metric, value } of body.data?.result ?? []) {
      const name = metric.admission_function;
      const seconds = Number(value[1]);
      if (!name || !Number.isFinite(seconds)) continue;
      result.set(name, { ...result.get(name), [key]: seconds });
    }
  }
  return result;
}
