// Runs Debian's nginx as a child process on an ephemeral loopback port, with everything it
// writes under one temporary prefix, as a non-root user (as in the pod).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface RunningNginx {
  readonly port: number;
  readonly pid: number;
  /** Where nginx writes its pid, buffers and logs. */
  readonly runDir: string;
  /** What nginx wrote to stderr so far. */
  stderr(): string;
  stop(): Promise<void>;
}

/** Renders the configuration for a listen address and a writable run directory. */
export type NginxConfig = (listen: string, runDir: string) => string;

export interface NginxLaunch {
  /** A shell script nginx is started through (deploy/tls-reload.sh), given nginx's arguments. */
  readonly script?: string;
  /** Environment of the script. */
  readonly env?: Record<string, string>;
}

const NOBODY = 65534;

function nginxBinary(): string {
  try {
    execFileSync('nginx', ['-v'], { stdio: 'ignore' });
    return 'nginx';
  } catch {
    throw new Error('nginx not found: install Debian package nginx-light (listed in .ci/apt-packages)');
  }
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * The first folder above `dir` that nobody cannot enter (mkdtemp makes 0700 folders owned by
 * root): nginx, dropped to nobody, could not open its configuration below it.
 */
function closedToNobody(dir: string): string | undefined {
  for (let path = dirname(dir); ; path = dirname(path)) {
    const { mode, uid } = statSync(path);
    if (uid !== NOBODY && (mode & 0o001) === 0) return path;
    if (path === dirname(path)) return undefined;
  }
}

function chownTree(path: string, uid: number): void {
  chownSync(path, uid, uid);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), uid);
}

async function accepting(port: number): Promise<boolean> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  try {
    await once(socket, 'connect');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

async function launch(
  binary: string,
  dir: string,
  config: NginxConfig,
  via: NginxLaunch = {},
): Promise<RunningNginx> {
  const port = await freePort();
  const runDir = join(dir, 'run');
  mkdirSync(runDir, { recursive: true });
  const confFile = join(dir, 'nginx.conf');
  writeFileSync(confFile, config(`127.0.0.1:${port}`, runDir));
  // As root, run as nobody: the configuration must work without privileges, as in the pod.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const closed = closedToNobody(dir);
    if (closed)
      throw new Error(
        `nginx runs as nobody and cannot reach ${dir}: ${closed} is closed to other users (give nginx a folder of its own, e.g. mkdtemp in the temporary folder)`,
      );
    chownTree(dir, NOBODY);
  }
  const args = ['-p', `${dir}/`, '-c', confFile, '-e', 'stderr'];
  const [command, commandArgs] = via.script ? ['sh', [via.script, ...args]] : [binary, args];
  const child: ChildProcess = spawn(command, commandArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...(via.env && { env: { ...process.env, ...via.env } }),
    ...(asRoot && { uid: NOBODY, gid: NOBODY }),
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  let exited = false;
  const exit = once(child, 'exit').then(() => {
    exited = true;
  });
  for (let attempt = 0; attempt < 100 && !exited; attempt++) {
    if (await accepting(port)) break;
    await sleep(50);
  }
  // A failed bind makes nginx exit at once: give it that moment, so a port some other process
  // took meanwhile is not mistaken for nginx's.
  await sleep(50);
  if (exited || !(await accepting(port))) {
    child.kill('SIGKILL');
    throw Object.assign(new Error(`nginx did not start on port ${port}:\n${stderr}`), { stderr });
  }
  return {
    port,
    pid: child.pid ?? -1,
    runDir,
    stderr: () => stderr,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await exit;
      }
    },
  };
}

/** Starts nginx with `config`; retries on another port if the one picked was taken meanwhile. */
export async function startNginx(
  dir: string,
  config: NginxConfig,
  via: NginxLaunch = {},
): Promise<RunningNginx> {
  const binary = nginxBinary();
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(binary, dir, config, via);
    } catch (error) {
      const taken = String((error as { stderr?: string }).stderr).includes('Address already in use');
      if (!taken || attempt >= 3) throw error;
    }
  }
}

/** Replaces a file nginx reads, atomically (as the kubelet swaps a Secret volume) and with the same owner. */
export function replaceFile(path: string, content: string): void {
  const { uid, gid } = statSync(path);
  const next = `${path}.next`;
  writeFileSync(next, content, { mode: 0o600 });
  chownSync(next, uid, gid);
  renameSync(next, path);
}
