// Runs a server as a child process, the way a user or a container starts it, and finds the port
// it chose (tests always ask for port 0) in what it prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from './apiserver.ts';

export interface Running {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything printed so far, stdout and stderr. */
  output(): string;
  /** Resolves once the output matches `pattern` (logs may trail the reply they belong to). */
  waitForOutput(pattern: RegExp, waitMs?: number): Promise<void>;
  /** Ends the process group (npm and the node it starts) and waits for the exit. */
  stop(): Promise<void>;
}

export interface Ended {
  code: number | null;
  output: string;
}

/** Every server a test starts serves its metrics on an ephemeral loopback port, never 0.0.0.0:9464. */
export const TEST_METRICS_ENV = {
  OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
  OTEL_EXPORTER_PROMETHEUS_PORT: '0',
} as const;

/** Only what the server needs from this environment: none of the caller's FUNCTION or FUNC_*. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { ...TEST_METRICS_ENV };
  for (const key of ['PATH', 'HOME', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

function launch(command: string, args: string[], env: Record<string, string>) {
  const child = spawn(command, args, {
    cwd: projectRoot,
    env: { ...baseEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    output += text;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

/** Starts `command` and resolves once a line matches `listening` (its group 1 is the port). */
export async function startServer(
  command: string,
  args: string[],
  env: Record<string, string>,
  listening: RegExp,
  waitMs = 30_000,
): Promise<Running> {
  const { child, exited, output } = launch(command, args, env);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      process.kill(-child.pid, 'SIGTERM');
    }
    await exited;
  };
  const deadline = Date.now() + waitMs;
  let done = false;
  void exited.then(() => {
    done = true;
  });
  while (!done && Date.now() < deadline) {
    const port = listening.exec(output())?.[1];
    if (port) return { child, port: Number(port), output, stop, waitForOutput: waiter(output) };
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await stop();
  throw new Error(`${command} ${args.join(' ')} did not start listening:\n${output()}`);
}

function waiter(output: () => string) {
  return async (pattern: RegExp, waitMs = 10_000) => {
    const deadline = Date.now() + waitMs;
    while (!pattern.test(output())) {
      if (Date.now() > deadline) throw new Error(`no output matching ${pattern} in:\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
}

/** Runs `command` to its end (bounded by `waitMs`), for start-up failures. */
export async function runToExit(
  command: string,
  args: string[],
  env: Record<string, string>,
  waitMs = 15_000,
): Promise<Ended> {
  const { child, exited, output } = launch(command, args, env);
  const timer = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), waitMs);
  const code = await exited;
  clearTimeout(timer);
  return { code, output: output() };
}

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a Node script of the project (a CLI) to its end, killed after 60 s: its output and time. */
export function runScript(
  script: string,
  args: string[],
  env: Record<string, string> = { PATH: process.env.PATH ?? '' },
  input?: string,
): Promise<ScriptRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(projectRoot, script), ...args], {
      cwd: projectRoot,
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (t: string) => {
      stdout += t;
    });
    child.stderr?.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
    child.stdin?.end(input);
  });
}
