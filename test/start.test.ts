// `npm start`, as the Node buildpack (`func deploy`) runs it after `npm run build`: the bundle
// dist/server/main.mjs. FUNCTION picks the function, served by Node's HTTP server on PORT
// (Knative's variable) with faas-js-runtime's contract (FUNC_PORT, FUNC_BODY_LIMIT, the
// /health/* probes, a graceful stop); FUNCTION_SERVER=faas-js-runtime serves it under
// faas-js-runtime instead.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { bundle } from '../scripts/bundle.ts';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { imageCommand } from './support/image-command.ts';
import { largeReview, MiB } from './support/large-review.ts';
import { runToExit, startServer } from './support/process.ts';
import { type Json, sharedFixture } from './support/reviews.ts';

const LISTENING = /node-selector: listening on port (\d+) \(body limit 8\.0 MiB\)/;
const FAAS_LISTENING = /node-selector: faas-js-runtime listening on port (\d+) \(body limit 8\.0 MiB\)/;

async function reviewsAnswered(port: number): Promise<void> {
  const reviews = [
    sharedFixture('knative-pod-netease-annotations.v1.json'),
    largeReview(sharedFixture('knative-pod-netease-annotations.v1beta1.json'), 3 * MiB),
  ];
  const replies: Json[] = [];
  for (const review of reviews) {
    const response = await fetch(`http://127.0.0.1:${port}/?timeout=10s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review),
    });
    assert.equal(response.status, 200);
    replies.push(await response.json());
  }
  const verdicts = await apiserverVerdicts(reviews.map((request, i) => ({ request, reply: replies[i] })));
  for (const verdict of verdicts) {
    assert.ok(verdict.accepted && verdict.allowed, JSON.stringify(verdict));
    assert.equal((verdict.object as Json).spec.nodeSelector.disktype, 'ssd');
  }
  for (const probe of ['/health/readiness', '/health/liveness']) {
    const answer = await fetch(`http://127.0.0.1:${port}${probe}`);
    assert.equal(answer.status, 200, probe);
  }
}

describe('npm start', () => {
  before(async () => {
    await bundle();
  });

  it('runs the bundle in dist/server/ with the Node flags of the image', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
    const [node, ...flags] = imageCommand().slice(0, -1);
    assert.equal(node, 'node');
    assert.equal(pkg.scripts.start, ['node', ...flags, 'dist/server/main.mjs'].join(' '));
    assert.equal(imageCommand().at(-1), 'dist/server/image.mjs');
    // The buildpack runs `build` before `start`: the bundle is part of it.
    assert.match(pkg.scripts.build, /node scripts\/bundle\.ts/);
  });

  it("with FUNCTION set, serves that function on Node's HTTP server on PORT, probes included", async () => {
    const server = await startServer('npm', ['start'], { FUNCTION: 'node-selector', PORT: '0' }, LISTENING);
    try {
      await reviewsAnswered(server.port);
    } finally {
      await server.stop();
    }
    assert.match(server.output(), /SIGTERM: no new connections[\s\S]*stopped/);
  });

  it('takes faas-js-runtime’s FUNC_PORT and FUNC_BODY_LIMIT', async () => {
    const server = await startServer(
      'npm',
      ['start'],
      { FUNCTION: 'node-selector', FUNC_PORT: '0', PORT: '1', FUNC_BODY_LIMIT: '4096' },
      /node-selector: listening on port (\d+) \(body limit 0\.0 MiB\)/,
    );
    try {
      const review = sharedFixture('knative-pod-netease-annotations.v1.json');
      const response = await fetch(`http://127.0.0.1:${server.port}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(review),
      });
      assert.equal(response.status, 413);
      const answer = (await response.json()) as { message: string };
      assert.match(answer.message, /body over the limit of 4096 bytes/);
    } finally {
      await server.stop();
    }
  });

  it('with FUNCTION_SERVER=faas-js-runtime, serves that function under faas-js-runtime', async () => {
    const server = await startServer(
      'npm',
      ['start'],
      { FUNCTION: 'node-selector', FUNCTION_SERVER: 'faas-js-runtime', PORT: '0' },
      FAAS_LISTENING,
    );
    try {
      await reviewsAnswered(server.port);
    } finally {
      await server.stop();
    }
  });

  it('stops with status 1 and one line naming the variable when the configuration is bad', async () => {
    const unknown = await runToExit('npm', ['start'], { FUNCTION: 'nodeselector', PORT: '0' });
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.output,
      /faas-admission: FUNCTION: unknown function "nodeselector" \(functions: volume-extension, node-selector, label-stamping, sidecar-injection, image-mirror, node-oversale, config-volume, knative-service-validation\)/,
    );
    for (const server of ['node', 'faas-js-runtime']) {
      const bad = await runToExit('npm', ['start'], {
        FUNCTION: 'label-stamping',
        FUNCTION_SERVER: server,
        STAMP_LABELS: 'team.example.com/owner',
        FUNC_PORT: '0',
      });
      assert.equal(bad.code, 1, server);
      assert.match(
        bad.output,
        /faas-admission: label-stamping: invalid configuration: STAMP_LABELS: entry "team.example.com\/owner": expected key=value/,
      );
      const port = await runToExit('npm', ['start'], {
        FUNCTION: 'node-selector',
        FUNCTION_SERVER: server,
        FUNC_PORT: 'eighty',
      });
      assert.equal(port.code, 1, server);
      assert.match(port.output, /faas-admission: FUNC_PORT: "eighty" is not a whole number/);
    }
    const chosen = await runToExit('npm', ['start'], {
      FUNCTION: 'node-selector',
      FUNCTION_SERVER: 'fastify',
    });
    assert.equal(chosen.code, 1);
    assert.match(
      chosen.output,
      /faas-admission: FUNCTION_SERVER: "fastify" is not one of node, faas-js-runtime/,
    );
  });
});
