// Each runtime's entry point as a child process serving one function, the way it is deployed:
// faas-js-runtime (`npm start` with FUNCTION, what Knative runs), the OpenFaaS server (plain
// HTTP), the standalone HTTPS server, and the image's command on the bundle (`deployed`: one
// function on Node's HTTP server, what deploy/ runs). For tests of what every runtime must do alike.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle } from '../../scripts/bundle.ts';
import { imageNodeFlags } from './image-command.ts';
import {
  call,
  OPENFAAS,
  type Reply,
  type RunningEntry,
  STANDALONE,
  startEntry,
  temporaryDirectory,
} from './runtimes.ts';

export const RUNTIMES = ['knative', 'openfaas', 'standalone', 'deployed'] as const;
export type RuntimeName = (typeof RUNTIMES)[number];

export interface RuntimeUnderTest {
  name: RuntimeName;
  entry: RunningEntry;
  /** Where reviews of the function go. */
  reviewUrl: string;
  ca?: string;
  pid: number;
  stop(): Promise<void>;
}

/** One function (label-stamping, which reads any object) served by `name`, from `root`. */
export async function startRuntime(
  name: RuntimeName,
  env: Record<string, string> = {},
  root?: string,
): Promise<RuntimeUnderTest> {
  const base = { FUNCTION: 'label-stamping', STAMP_LABELS: 'team=platform', LOG_LEVEL: 'silent', ...env };
  const at = (entry: string) => (root ? join(root, entry) : entry);
  if (name === 'knative') {
    const entry = await startEntry(
      at('runtimes/start.ts'),
      { ...base, FUNC_PORT: '0', FUNC_LOG_LEVEL: 'error' },
      /faas-js-runtime listening on port (\d+)/,
      'stdout',
      ['--max-semi-space-size=8'],
    );
    return described(name, entry, `http://127.0.0.1:${entry.url}/`);
  }
  if (name === 'deployed') {
    // The image's command on the bundle (dist/server/, made fresh here unless `root` has one).
    if (!root) await bundle();
    const entry = await startEntry(
      at('dist/server/image.mjs'),
      { ...base, PORT: '0', HOST: '127.0.0.1' },
      new RegExp(`${base.FUNCTION}: listening on port (\\d+)`),
      'stdout',
      imageNodeFlags(),
    );
    return described(name, entry, `http://127.0.0.1:${entry.url}/`);
  }
  if (name === 'openfaas') {
    const entry = await startEntry(
      at(OPENFAAS),
      { ...base, PORT: '0', HOST: '127.0.0.1' },
      /openfaas: serving .* on (http:\/\/\S+)/,
      'stderr',
      ['--max-semi-space-size=8'],
    );
    return described(name, entry, `${entry.url}/`);
  }
  const certs = temporaryDirectory('intake');
  const entry = await startEntry(
    at(STANDALONE),
    { ...base, FUNCTION: '', PORT: '0', HOST: '127.0.0.1', DEV_CERTS_DIR: certs.dir },
    /serving over HTTPS \(TLS 1\.2\+\) on (https:\/\/\S+)/,
    'stdout',
    ['--max-semi-space-size=8'],
  );
  const ca = readFileSync(join(certs.dir, 'ca.crt'), 'utf8');
  const running = described(name, entry, `${entry.url}/label-stamping`, ca);
  return { ...running, stop: () => running.stop().finally(certs.remove) };
}

function described(name: RuntimeName, entry: RunningEntry, reviewUrl: string, ca?: string): RuntimeUnderTest {
  const pid = entry.child.pid as number;
  return {
    name,
    entry,
    reviewUrl,
    ...(ca ? { ca } : {}),
    pid,
    stop: async () => {
      await entry.stop();
    },
  };
}

/** POSTs a review on its own connection. */
export function sendReview(runtime: RuntimeUnderTest, body: string): Promise<Reply> {
  return call(`${runtime.reviewUrl}?timeout=10s`, {
    method: 'POST',
    body,
    headers: { 'Content-Type': 'application/json' },
    ...(runtime.ca ? { ca: runtime.ca, servername: 'localhost' } : {}),
  });
}
