// One server under test as its own process: spawned fresh, timed from spawn to its first
// answered review, its peak RSS read from the kernel, stopped by its pid.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerCommand {
  readonly argv: readonly string[];
  /** Told to listen on port 0: the system picks a free port, the server says which. */
  readonly env: Readonly<Record<string, string>>;
  /** What the server prints once it listens; group 1 is the port. */
  readonly listening: RegExp;
  /** Where reviews for `fn` are POSTed (floors and one-function servers ignore `fn`). */
  url(port: number, fn?: string): string;
  /** Run to its end before each start, untimed, with the same variables: a build step of the image. */
  readonly setup?: readonly string[];
}

export interface Reply {
  status: number;
  body: string;
}

export interface RunningServer {
  readonly process: ChildProcess;
  readonly port: number;
  /** Milliseconds from spawn to the first review answered with HTTP 200. */
  readonly startMs: number;
  /** That first answer, to check the server really did the work. */
  readonly firstReply: Reply;
}

// Long: on a busy machine a start can take seconds; a start that never answers still fails.
const START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 5;

/** POSTs `body` once on a fresh connection (trusting `ca` for HTTPS); rejects when nothing listens yet. */
export function post(url: string, body: string, ca: string): Promise<Reply> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Spawns `command`, reads its port from what it prints, and POSTs `body` (for function `fn`)
 * until it is answered.
 */
export async function startServer(
  command: ServerCommand,
  fn: string | undefined,
  body: string,
  ca: string,
): Promise<RunningServer> {
  const [program, ...args] = command.argv;
  if (!program) throw new Error('empty command');
  const env = { ...process.env, ...command.env };
  if (command.setup) {
    const [setupProgram = '', ...setupArgs] = command.setup;
    execFileSync(setupProgram, setupArgs, { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const started = performance.now();
  const child = spawn(program, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let port: number | undefined;
  const read = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8000);
    port ??= Number(command.listening.exec(output)?.[1]) || undefined;
  };
  child.stdout?.on('data', read);
  child.stderr?.on('data', read);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const fail = async (message: string): Promise<never> => {
    await stopServer(child);
    throw new Error(`${command.argv.join(' ')} ${message}:\n${output}`);
  };
  while (performance.now() - started < START_TIMEOUT_MS) {
    if (exited) return fail('exited before answering');
    if (port !== undefined) {
      const url = command.url(port, fn);
      try {
        const reply = await post(url, body, ca);
        if (reply.status !== 200)
          return fail(`answered ${url} with HTTP ${reply.status}: ${reply.body.slice(0, 500)}`);
        return { process: child, port, startMs: performance.now() - started, firstReply: reply };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ECONNREFUSED' && code !== 'ECONNRESET') throw error;
      }
    }
    await sleep(POLL_INTERVAL_MS);
  }
  return fail(`answered no review within ${START_TIMEOUT_MS} ms`);
}

/** Peak resident set size (VmHWM) in MB, as the kernel counted it for the process so far. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return (Number(match[1]) * 1024) / 1e6;
}

/**
 * Resident memory now in MB, two ways (/proc/<pid>/smaps_rollup): RSS, every page the process
 * has resident, and PSS, where a page shared by n processes counts 1/n in each (the
 * executable's pages among processes of one binary): PSS added up is what they hold together.
 */
export function memoryNowMb(pid: number): { rssMb: number; pssMb: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string) => {
    const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(rollup);
    if (!match?.[1]) throw new Error(`no ${name} in /proc/${pid}/smaps_rollup`);
    return (Number(match[1]) * 1024) / 1e6;
  };
  return { rssMb: field('Rss'), pssMb: field('Pss') };
}

/**
 * CPU time the process has used so far, all its threads (GC and libuv too), in milliseconds.
 * Per request it is a steadier figure than req/s on a busy machine: time the server waits for
 * a core does not count.
 */
export function cpuTimeMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return ns / 1e6;
}

/** SIGTERM, then SIGKILL if the process is still there after a grace period. */
export async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
