// What the load and fault scenarios share: the reviews sent (one per function, with the reply
// each must get), the server under test (the standalone HTTPS server as `npm run serve` runs
// it, a child process), and its memory as the kernel counts it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functions } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { functionHandler } from '../../shared/handler.ts';
import { answerBody } from '../../shared/http-answer.ts';
import { apiserverVerdicts, projectRoot, sharedDir } from '../support/apiserver.ts';
import { ENVIRONMENTS } from '../support/environments.ts';
import { type RunningEntry, STANDALONE, STANDALONE_URL, startEntry } from '../support/runtimes.ts';
import type { LoadRequest } from './generator.ts';

/** The environment the server runs with: every function configured, the sample volume policy. */
export const SERVER_ENV = ENVIRONMENTS[0] as Record<string, string>;

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const fixture = (name: string) => readJson(join(sharedDir, 'fixtures', name));
const sample = (name: string) => readJson(join(projectRoot, 'samples', name));

/** A review each function acts on (patches, or for the validation checks and admits). */
const REVIEWS: Record<string, unknown> = {
  'volume-extension': fixture('knative-pod-netease-annotations.v1.json'),
  'node-selector': fixture('knative-pod-netease-annotations.v1beta1.json'),
  'label-stamping': fixture('plain-pod-no-labels.v1.json'),
  'sidecar-injection': sample('sidecar-injection/pod-annotated-true.json'),
  'image-mirror': sample('image-mirror/pod.json'),
  'config-volume': sample('config-volume/hello-pod.json'),
  'node-oversale': sample('node-oversale/first-heartbeat.json'),
  'knative-service-validation': sample('knative-service/create-good.v1.json'),
};

/**
 * One request per registered function, with the reply the function gives in-process under
 * SERVER_ENV; the apiserver must accept each of those replies.
 */
export async function loadRequests(): Promise<LoadRequest[]> {
  const requests = [...functions.values()].map((mutation) => {
    const review = REVIEWS[mutation.name] ?? fixture('knative-pod-netease-annotations.v1.json');
    const body = JSON.stringify(review);
    const answer = answerBody(functionHandler({ mutation, config: loadConfig(mutation, SERVER_ENV) }), body);
    if (answer.status !== 200) throw new Error(`${mutation.name}: ${JSON.stringify(answer.body)}`);
    return {
      path: `/${mutation.name}`,
      body,
      expected: answer.body,
      review,
      validating: mutation.kind === 'validating',
    };
  });
  const verdicts = await apiserverVerdicts(
    requests.map((r) => ({ request: r.review, reply: r.expected, validating: r.validating })),
  );
  for (const [i, verdict] of verdicts.entries()) {
    if (!verdict.accepted) throw new Error(`${requests[i]?.path}: the apiserver refuses: ${verdict.error}`);
  }
  return requests.map(({ path, body, expected }) => ({ path, body, expected }));
}

export interface ServerUnderTest {
  entry: RunningEntry;
  url: string;
  ca: string;
}

/**
 * The standalone server with a development certificate in `certsDir` (or the TLS files in
 * `env`); with `inspect`, also a loopback inspector port to read its heap (see liveHeapMiB).
 */
export async function startServer(
  certsDir: string,
  env: Record<string, string> = {},
  inspect = false,
): Promise<ServerUnderTest> {
  const entry = await startEntry(
    STANDALONE,
    { ...SERVER_ENV, PORT: '0', HOST: '127.0.0.1', DEV_CERTS_DIR: certsDir, ...env },
    STANDALONE_URL,
    'stdout',
    inspect ? ['--inspect=127.0.0.1:0'] : [],
  );
  const ca = env.TLS_CERT_FILE ? '' : readFileSync(join(certsDir, 'ca.crt'), 'utf8');
  return { entry, url: entry.url, ca };
}

/**
 * The server's live JavaScript heap in MiB: a full garbage collection through the inspector
 * (Chrome DevTools Protocol), then the heap in use. Unlike the resident size, which follows
 * the collector's sawtooth, this grows only with what the server keeps.
 */
export async function liveHeapMiB(entry: RunningEntry): Promise<number> {
  const [, url] = await entry.waitFor(/Debugger listening on (ws:\/\/\S+)/, 'stderr');
  const socket = new WebSocket(url as string);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true });
    socket.addEventListener('error', reject, { once: true });
  });
  let id = 0;
  const call = (method: string) =>
    new Promise<Record<string, number>>((resolve, reject) => {
      const sent = ++id;
      const onMessage = (event: MessageEvent) => {
        const message = JSON.parse(String(event.data));
        if (message.id !== sent) return;
        socket.removeEventListener('message', onMessage);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message.result);
      };
      socket.addEventListener('message', onMessage);
      socket.send(JSON.stringify({ id: sent, method }));
    });
  try {
    await call('HeapProfiler.collectGarbage');
    const { usedSize } = await call('Runtime.getHeapUsage');
    return (usedSize ?? Number.NaN) / 1024 / 1024;
  } finally {
    socket.close();
  }
}

/** Resident memory of a process in MiB (VmRSS), or undefined once it is gone. */
export function residentMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]);
    return Number.isFinite(kb) ? kb / 1024 : undefined;
  } catch {
    return undefined;
  }
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
