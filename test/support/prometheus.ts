// A real Prometheus (Debian's `prometheus` package, listed in .ci/apt-packages) run as a child
// process with its own configuration and storage in a temporary directory, scraping the
// given targets every second on loopback.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sample {
  metric: Record<string, string>;
  value: number;
}

export interface Prometheus {
  readonly url: string;
  /** An instant query through the HTTP API; rejects with Prometheus's error for bad PromQL. */
  query(promql: string): Promise<Sample[]>;
  /** Polls `promql` until `enough` holds for its result, or rejects after `ms`. */
  waitFor(promql: string, enough: (samples: Sample[]) => boolean, ms?: number): Promise<Sample[]>;
  /** The alerts of the loaded rule files, pending or firing (/api/v1/alerts). */
  alerts(): Promise<Alert[]>;
  stop(): Promise<void>;
}

export interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

export interface PrometheusOptions {
  /** Rule files to load (rule_files), evaluated every second. */
  readonly ruleFiles?: readonly string[];
  /** More scrape jobs; honorLabels keeps the job and instance labels the target writes. */
  readonly jobs?: readonly { name: string; targets: readonly string[]; honorLabels?: boolean }[];
}

export const PROMETHEUS_BINARY = process.env.PROMETHEUS_BINARY ?? 'prometheus';

export function prometheusVersion(): string {
  try {
    return execFileSync(PROMETHEUS_BINARY, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    throw new Error(
      `${PROMETHEUS_BINARY} not found: install Debian's prometheus package (listed in .ci/apt-packages)`,
    );
  }
}

/** A loopback port that was free a moment ago (Prometheus cannot listen on port 0 and say where). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Starts Prometheus scraping `targets` (host:port of /metrics endpoints) every second. */
export async function startPrometheus(
  targets: readonly string[],
  options: PrometheusOptions = {},
): Promise<Prometheus> {
  prometheusVersion();
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-prometheus-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: faas-admission',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      ...(options.jobs ?? []).flatMap((job) => [
        `  - job_name: '${job.name}'`,
        `    honor_labels: ${job.honorLabels === true}`,
        '    static_configs:',
        `      - targets: [${job.targets.map((t) => `'${t}'`).join(', ')}]`,
      ]),
      ...(options.ruleFiles?.length ? ['rule_files:', ...options.ruleFiles.map((f) => `  - '${f}'`)] : []),
      '',
    ].join('\n'),
  );
  // Another process may take the port between freePort() and Prometheus binding it: retry.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(
      PROMETHEUS_BINARY,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const url = `http://127.0.0.1:${port}`;
    try {
      await untilReady(url, child, 30_000);
    } catch (error) {
      await stopChild(child);
      if (attempt < 3 && /address already in use/.test(output.join(''))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${(error as Error).message}\n${output.join('')}`);
    }
    const query = async (promql: string): Promise<Sample[]> => {
      const response = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
      const body = (await response.json()) as {
        status: string;
        error?: string;
        data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== 'success') throw new Error(`PromQL ${promql}: ${body.error}`);
      return (body.data?.result ?? []).map(({ metric, value }) => ({ metric, value: Number(value[1]) }));
    };
    return {
      url,
      query,
      async waitFor(promql, enough, ms = 30_000) {
        const deadline = Date.now() + ms;
        for (;;) {
          const samples = await query(promql);
          if (enough(samples)) return samples;
          if (Date.now() > deadline) {
            throw new Error(`Prometheus: ${promql} gave ${JSON.stringify(samples)} after ${ms} ms`);
          }
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      },
      async alerts() {
        const response = await fetch(`${url}/api/v1/alerts`);
        const body = (await response.json()) as { data: { alerts: Alert[] } };
        return body.data.alerts;
      },
      async stop() {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}

async function untilReady(url: string, child: ChildProcess, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`prometheus exited ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/-/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prometheus not ready after ${ms} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
