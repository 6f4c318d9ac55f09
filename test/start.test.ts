// `npm start`, as a Knative Functions build runs it: FUNCTION picks the function, PORT (Knative's
// variable) the port, and the body limit defaults to 8 MiB without any FUNC_* variable.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { largeReview, MiB } from './support/large-review.ts';
import { runToExit, startServer } from './support/process.ts';
import { type Json, sharedFixture } from './support/reviews.ts';

const LISTENING = /node-selector: faas-js-runtime listening on port (\d+) \(body limit 8\.0 MiB\)/;

describe('npm start', () => {
  it('is `node runtimes/start.ts`: the sources run as they are, no build needed', () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'));
    // The young generation capped at 8 MB: left to grow under load it reaches 100 MB and more
    // of mostly empty heap (docs/bench.md), for no measurable gain in throughput.
    assert.equal(pkg.scripts.start, 'node --max-semi-space-size=8 runtimes/start.ts');
  });

  it('with FUNCTION set, serves that function under faas-js-runtime on PORT', async () => {
    const server = await startServer('npm', ['start'], { FUNCTION: 'node-selector', PORT: '0' }, LISTENING);
    try {
      const reviews = [
        sharedFixture('knative-pod-netease-annotations.v1.json'),
        largeReview(sharedFixture('knative-pod-netease-annotations.v1beta1.json'), 3 * MiB),
      ];
      const replies: Json[] = [];
      for (const review of reviews) {
        const response = await fetch(`http://127.0.0.1:${server.port}/?timeout=10s`, {
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
      const ready = await fetch(`http://127.0.0.1:${server.port}/health/readiness`);
      assert.equal(ready.status, 200);
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
    const bad = await runToExit('npm', ['start'], {
      FUNCTION: 'label-stamping',
      STAMP_LABELS: 'team.example.com/owner',
      FUNC_PORT: '0',
    });
    assert.equal(bad.code, 1);
    assert.match(
      bad.output,
      /faas-admission: label-stamping: invalid configuration: STAMP_LABELS: entry "team.example.com\/owner": expected key=value/,
    );
    const port = await runToExit('npm', ['start'], { FUNCTION: 'node-selector', FUNC_PORT: 'eighty' });
    assert.equal(port.code, 1);
    assert.match(port.output, /faas-admission: FUNC_PORT: "eighty" is not a whole number/);
  });
});
