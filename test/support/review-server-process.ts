// Runs test/support/review-server.ts as its own process (telemetry started as a runtime
// starts it) and talks to it over HTTP: what the telemetry tests scrape and trace.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from './apiserver.ts';

export interface ReviewServer {
  readonly url: string;
  readonly metricsUrl: string | undefined;
  /** Every line written to stderr so far (JSON log lines). */
  readonly stderr: string[];
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

/** Environment every test server gets: metrics on an ephemeral loopback port, never 9464. */
const TEST_ENV = {
  OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
  OTEL_EXPORTER_PROMETHEUS_PORT: '0',
  LOG_LEVEL: 'info',
};

export async function startReviewServer(env: Record<string, string> = {}): Promise<ReviewServer> {
  const child = spawn(process.execPath, [join(projectRoot, 'test', 'support', 'review-server.ts')], {
    cwd: projectRoot,
    env: { ...withoutOtel(process.env), ...TEST_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const first = await firstLine(child, 15_000).catch((error: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${error.message}\n${stderr.join('\n')}`);
  });
  const { url, metricsUrl } = JSON.parse(first) as { url: string; metricsUrl?: string };
  return {
    url,
    metricsUrl,
    stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The tests decide every OTEL_* variable; none leaks in from the shell running them. */
function withoutOtel(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('OTEL_')));
}

function firstLine(child: ChildProcess, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`review server: no address after ${ms} ms`)), ms);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`review server exited ${code} before listening`));
    });
  });
}

export interface Sent {
  status: number;
  body: unknown;
}

/** POSTs a review (an object, or raw text) to a function, as the apiserver does. */
export async function postReview(
  server: ReviewServer,
  functionName: string,
  review: unknown,
  { timeout, headers = {} }: { timeout?: string; headers?: Record<string, string> } = {},
): Promise<Sent> {
  const query = timeout === undefined ? '' : `?timeout=${encodeURIComponent(timeout)}`;
  const response = await fetch(`${server.url}/${functionName}${query}`, {
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
