// The image passes its own probes: what the Dockerfile ships (dist/ compiled by `npm run build`,
// production dependencies installed by `npm ci --omit=dev`, started by its CMD with its ENV)
// answers 200 on every probe path that deploy/, func.yaml and stack.yml name for it, on the
// port they name, and answers a review the apiserver accepts. deploy/functions.yaml once probed
// /health/readiness on an image that served only /_/health: never Ready.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { bundle } from '../scripts/bundle.ts';
import { apiserverVerdict, projectRoot, sharedDir } from './support/apiserver.ts';
import type { Json } from './support/reviews.ts';
import { call, postReview, type RunningEntry, startEntry, temporaryDirectory } from './support/runtimes.ts';

const run = promisify(execFile);

/** The final stage of the Dockerfile: its ENV and CMD, as the container starts. */
function finalStage(): { env: Record<string, string>; cmd: string[] } {
  const text = readFileSync(join(projectRoot, 'Dockerfile'), 'utf8');
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const last = lines.slice(lines.findLastIndex((line) => /^FROM\s/i.test(line)));
  const env: Record<string, string> = {};
  for (const line of last.filter((l) => /^ENV\s/i.test(l))) {
    for (const [, key = '', value = ''] of line.slice(4).matchAll(/(\w+)=(\S+)/g)) env[key] = value;
  }
  const cmd = JSON.parse(last.find((l) => /^CMD\s/i.test(l))?.slice(4) ?? '[]') as string[];
  return { env, cmd };
}

interface Probe {
  where: string;
  path: string;
  /** The port the probe goes to, as a number (a named port resolved on its container). */
  port: number;
}

/** Every HTTP probe on a container of the project's image in deploy/, func.yaml and stack.yml. */
function namedProbes(): { probes: Probe[]; functionEnv: Record<string, string> } {
  const probes: Probe[] = [];
  let functionEnv: Record<string, string> = {};
  const deployDir = join(projectRoot, 'deploy');
  for (const file of readdirSync(deployDir).filter((name) => name.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(deployDir, file), 'utf8'))) {
      const object = document.toJS() as Json;
      const spec = object?.spec?.template?.spec;
      for (const container of (spec?.containers ?? []) as Json[]) {
        if (!String(container.image).includes('faas-admission')) continue;
        const ports = (container.ports ?? []) as Json[];
        for (const kind of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
          const get = container[kind]?.httpGet;
          if (!get) continue;
          // Knative lets the port out and probes the serving port; Kubernetes names or numbers it.
          const named = ports.find((p) => p.name === get.port)?.containerPort;
          const port = Number(get.port === undefined ? ports[0]?.containerPort : (named ?? get.port));
          probes.push({ where: `deploy/${file} ${object.metadata.name} ${kind}`, path: get.path, port });
        }
        if (Object.keys(functionEnv).length === 0) {
          functionEnv = Object.fromEntries(
            ((container.env ?? []) as Json[]).filter((e) => 'value' in e).map((e) => [e.name, e.value]),
          );
        }
      }
    }
  }
  // func.yaml: `func deploy` makes a Knative Service probing these on the serving port (8080).
  const func = parse(readFileSync(join(projectRoot, 'func.yaml'), 'utf8')) as Json;
  for (const [kind, path] of Object.entries((func.deploy?.healthEndpoints ?? {}) as Record<string, string>)) {
    probes.push({ where: `func.yaml healthEndpoints.${kind}`, path, port: 8080 });
  }
  // stack.yml: OpenFaaS probes its annotation's path on the function's port, 8080.
  const stack = parse(readFileSync(join(projectRoot, 'stack.yml'), 'utf8')) as Json;
  for (const [name, fn] of Object.entries(stack.functions as Record<string, Json>)) {
    const path = fn.annotations?.['com.openfaas.health.http.path'] ?? '/_/health';
    probes.push({ where: `stack.yml ${name}`, path, port: 8080 });
  }
  return { probes, functionEnv };
}

describe('the image as the Dockerfile builds and starts it', () => {
  const app = temporaryDirectory('image-probes');
  const { env, cmd } = finalStage();
  const { probes, functionEnv } = namedProbes();
  let server: RunningEntry;

  before(async () => {
    // /app of the image: package.json and the lock, production dependencies, dist/.
    for (const file of ['package.json', 'package-lock.json']) {
      copyFileSync(join(projectRoot, file), join(app.dir, file));
    }
    const npm = process.env.npm_execpath;
    const ci = ['ci', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'];
    await (npm
      ? run(process.execPath, [npm, ...ci], { cwd: app.dir })
      : run('npm', ci, {
          cwd: app.dir,
          env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
        }));
    const tsc = join(projectRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const build = ['-p', 'tsconfig.build.json', '--outDir', join(app.dir, 'dist'), '--noCheck'];
    await run(process.execPath, [tsc, ...build], { cwd: projectRoot });
    // The rest of `npm run build`: the servers' bundle, which the CMD runs.
    await bundle(join(app.dir, 'dist', 'server'));
    const [node, ...args] = cmd;
    assert.equal(node, 'node', 'CMD runs node');
    // The Dockerfile's ENV, except the port: this machine's 8080 may be taken, so the image's
    // port is checked against the probes' below and the process listens on a free one.
    server = await startEntry(
      resolve(app.dir, args.at(-1) ?? ''),
      { ...functionEnv, ...env, PORT: '0', HOST: '127.0.0.1' },
      /serving .* on (http:\/\/\S+)/,
      'stderr',
      args.slice(0, -1),
    );
  });
  after(async () => {
    await server?.stop();
    app.remove();
  });

  it('finds the probes to check in the deploy files', () => {
    assert.ok(
      probes.some((p) => p.where.startsWith('deploy/')),
      JSON.stringify(probes),
    );
    assert.ok(probes.some((p) => p.where.startsWith('func.yaml')));
    assert.ok(probes.some((p) => p.where.startsWith('stack.yml')));
    assert.ok(functionEnv.FUNCTION, 'a deployed Service names its FUNCTION');
  });

  it('listens on the port every probe goes to', () => {
    for (const probe of probes)
      assert.equal(probe.port, Number(env.PORT), `${probe.where} probes ${probe.port}`);
  });

  it('answers 200 on every probe path', async () => {
    const failures: string[] = [];
    for (const probe of probes) {
      const reply = await call(`${server.url}${probe.path}`);
      if (reply.status !== 200) failures.push(`${probe.where}: GET ${probe.path} answered ${reply.status}`);
    }
    assert.deepEqual(failures, []);
  });

  it('answers a review with a reply the apiserver accepts', async () => {
    const review = JSON.parse(
      readFileSync(join(sharedDir, 'fixtures', 'knative-pod-netease-annotations.v1.json'), 'utf8'),
    );
    const reply = await postReview(`${server.url}/`, review);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.response.uid, review.request.uid);
    // The function's own answer (volume-extension under the default policy denies this pod's
    // hostPath): what matters here is that the apiserver takes the reply as it is.
    const verdict = await apiserverVerdict(review, reply.json);
    assert.ok(verdict.accepted, JSON.stringify(verdict));
  });
});
