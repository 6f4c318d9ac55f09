// Load with wrk (Debian package `wrk`): keep-alive connections, one thread (the server gets
// the other core), POSTing one body for a fixed duration. A Lua `done` hook prints the
// figures as JSON, so nothing depends on wrk's human-readable output.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadResult {
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; max: number; mean: number };
  /** Connect/read/write/timeout errors and HTTP statuses >= 400: any of these spoils the run. */
  errors: number;
}

export interface LoadOptions {
  url: string;
  bodyFile: string;
  /** Sent with every request, besides Content-Type. */
  headers?: Readonly<Record<string, string>>;
  connections: number;
  durationSeconds: number;
  /** Where to put the generated Lua script. */
  workDir: string;
}

function script(bodyFile: string, headers: Readonly<Record<string, string>>): string {
  const extra = Object.entries(headers)
    .map(([name, value]) => `wrk.headers[${JSON.stringify(name)}] = ${JSON.stringify(value)}`)
    .join('\n');
  return `
local file = assert(io.open(${JSON.stringify(bodyFile)}, "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
${extra}

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nWRK-RESULT {"requests":%d,"durationUs":%d,"p50":%d,"p99":%d,"max":%d,"mean":%f,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, e.connect + e.read + e.write + e.status + e.timeout))
end
`;
}

export async function assertWrkInstalled(): Promise<void> {
  try {
    await run('wrk', ['--version']);
  } catch (error) {
    // wrk --version exits 1 after printing its banner; only a missing binary is a problem.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('wrk is not installed: apt-get install wrk (it is listed in .ci/apt-packages)');
    }
  }
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const scriptFile = join(options.workDir, 'post.lua');
  writeFileSync(scriptFile, script(options.bodyFile, options.headers ?? {}));
  const seconds = Math.max(1, Math.round(options.durationSeconds));
  const { stdout } = await run(
    'wrk',
    [
      '--threads',
      '1',
      '--connections',
      String(options.connections),
      '--duration',
      `${seconds}s`,
      '--timeout',
      '10s',
      '--script',
      scriptFile,
      options.url,
    ],
    { maxBuffer: 1 << 20 },
  );
  const line = stdout.split('\n').find((l) => l.startsWith('WRK-RESULT '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const raw = JSON.parse(line.slice('WRK-RESULT '.length)) as {
    requests: number;
    durationUs: number;
    p50: number;
    p99: number;
    max: number;
    mean: number;
    errors: number;
  };
  const durationSeconds = raw.durationUs / 1e6;
  const ms = (us: number) => Math.round(us) / 1000;
  return {
    requests: raw.requests,
    durationSeconds,
    requestsPerSecond: raw.requests / durationSeconds,
    latencyMs: { p50: ms(raw.p50), p99: ms(raw.p99), max: ms(raw.max), mean: ms(raw.mean) },
    errors: raw.errors,
  };
}
