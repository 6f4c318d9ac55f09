// A function as Knative runs it (`npm start` with FUNCTION: faas-js-runtime, telemetry started
// by its init()), in its own process, on ephemeral ports: what the telemetry tests scrape and
// trace. Its Prometheus endpoint is found in the "telemetry started" log line.
import { join } from 'node:path';
import { projectRoot } from './apiserver.ts';
import { type Running, startServer } from './process.ts';

export interface RunningFunction {
  /** Where the apiserver would POST reviews. */
  readonly url: string;
  /** Its Prometheus endpoint (loopback, ephemeral port), if served. */
  readonly metricsUrl: string | undefined;
  /** The JSON log lines printed so far (the runtime's own and the reviews'). */
  logLines(): Record<string, unknown>[];
  stop(): Promise<void>;
}

const LISTENING = /faas-js-runtime listening on port (\d+)/;

export async function startFunction(
  name: string,
  env: Record<string, string> = {},
): Promise<RunningFunction> {
  const server: Running = await startServer(
    process.execPath,
    [join(projectRoot, 'runtimes', 'start.ts')],
    { FUNCTION: name, FUNC_PORT: '0', ...env },
    LISTENING,
  );
  const logLines = () =>
    server
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const started = logLines().find((line) => line.msg === 'telemetry started');
  return {
    url: `http://127.0.0.1:${server.port}/`,
    metricsUrl: started?.metrics_url as string | undefined,
    logLines,
    stop: () => server.stop(),
  };
}

export interface Sent {
  status: number;
  body: unknown;
}

/** POSTs a review (an object, or raw text) as the apiserver does, with its `?timeout=`. */
export async function postReview(
  url: string,
  review: unknown,
  { timeout, headers = {} }: { timeout?: string; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const query = timeout === undefined ? '' : `?timeout=${encodeURIComponent(timeout)}`;
  const response = await fetch(`${url}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof review === 'string' ? review : JSON.stringify(review),
  });
  return { status: response.status, body: await response.json() };
}

/** Runs `task` over `items` with at most `concurrency` at a time, results in order. */
export async function inParallel<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}
