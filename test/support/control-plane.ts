// A real control plane on loopback for end-to-end tests: etcd, kube-apiserver and
// kube-controller-manager from ../shared/tools/kube-apiserver (Kubernetes 1.20.2). Each call
// starts its own in a fresh folder on free ports, so suites can run side by side; `stop()` ends
// it and removes its folder, and a process exit does the same.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { sharedDir } from './apiserver.ts';

export const kubeToolsDir = join(sharedDir, 'tools', 'kube-apiserver');

export interface ControlPlane {
  /** The folder start.sh wrote: pki/, logs, kubeconfig. */
  readonly dir: string;
  /** https://127.0.0.1:PORT */
  readonly server: string;
  /** Admin (system:masters) kubeconfig file. */
  readonly kubeconfigPath: string;
  /** The admin kubeconfig, loaded for @kubernetes/client-node. */
  readonly kubeConfig: KubeConfig;
  /** The kubeconfig file of a kubelet identity named in `nodes` (system:node:NAME). */
  nodeKubeconfigPath(node: string): string;
  /** The CA that signed the apiserver's serving certificate (PEM). */
  readonly caPem: string;
  stop(): void;
}

export interface ControlPlaneOptions {
  /** Kubelet identities to create (KUBE_NODES of start.sh). */
  readonly nodes?: readonly string[];
}

/**
 * Builds the binaries when missing (10-20 minutes the first time), then returns their folder.
 * Test files run side by side and several start a control plane: on a fresh machine each would
 * start the build at once, into the one cache. Under flock (util-linux) one builds while the
 * others wait for it, then find the binaries cached.
 */
export function buildControlPlane(): string {
  const build = join(kubeToolsDir, 'build.sh');
  if (!existsSync(build)) throw new Error(`kube-apiserver tools not found at ${build} (set SHARED_DIR)`);
  const lock = `${process.env.KUBE_CACHE || '/var/cache/kube-1.20'}.build-lock`;
  return execFileSync('flock', [lock, 'bash', build], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A port P with P, P+10000 and P+10001 free (start.sh puts etcd on the last two). */
async function freePortTriple(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 16000 + Math.floor(Math.random() * 9000);
    if ((await portIsFree(port)) && (await portIsFree(port + 10000)) && (await portIsFree(port + 10001))) {
      return port;
    }
  }
  throw new Error('no free port for the control plane');
}

const running = new Set<string>();
process.once('exit', () => {
  for (const dir of running) stopDir(dir);
});

/** Stops the processes of `dir`; removes it too (etcd's data, the logs) unless `keep`. */
function stopDir(dir: string, keep = false): void {
  try {
    execFileSync('bash', [join(kubeToolsDir, 'stop.sh'), dir], { stdio: 'ignore' });
  } catch {
    // already stopped
  }
  running.delete(dir);
  if (!keep) rmSync(dir, { recursive: true, force: true });
}

export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  buildControlPlane();
  const dir = mkdtempSync(join(tmpdir(), 'faas-admission-kube-'));
  const port = await freePortTriple();
  running.add(dir);
  let kubeconfigPath: string;
  try {
    kubeconfigPath = execFileSync('bash', [join(kubeToolsDir, 'start.sh'), dir, String(port)], {
      encoding: 'utf8',
      env: { ...process.env, KUBE_NODES: (options.nodes ?? []).join(' ') },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 120_000,
    }).trim();
  } catch (error) {
    stopDir(dir, true);
    throw new Error(`control plane did not start (logs in ${dir}): ${(error as Error).message}`);
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(kubeconfigPath);
  return {
    dir,
    server: `https://127.0.0.1:${port}`,
    kubeconfigPath,
    kubeConfig,
    caPem: readFileSync(join(dir, 'pki', 'ca.crt'), 'utf8'),
    nodeKubeconfigPath: (node) => join(dir, `kubeconfig-${node}`),
    stop: () => stopDir(dir),
  };
}
