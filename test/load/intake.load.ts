// What a hostile tenant who can reach a function's port can make each runtime hold, and how
// long one review of the worst quantities the limits allow blocks the others, on every runtime
// (faas-js-runtime as Knative runs it, the OpenFaaS server, the standalone HTTPS server), each
// a fresh child process. The figures are printed as diagnostics; the issue measured, before
// the intake bounds, 682 MB after 64 stalled 8 MiB uploads and 581 MB under 48 concurrent
// 8 MiB reviews (faas-js-runtime), and a 9 s event-loop block from 100,000-digit quantities.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from '../support/apiserver.ts';
import { ENVIRONMENTS } from '../support/environments.ts';
import { RUNTIMES, type RuntimeUnderTest, sendReview, startRuntime } from '../support/every-runtime.ts';
import type { Json } from '../support/reviews.ts';
import { measure } from './intake.ts';

/** Below the 512Mi memory limit the deploy files give an instance (the 682 MB was above it). */
const MAX_RESIDENT_MIB = 480;

const heartbeat = (): Json =>
  JSON.parse(readFileSync(join(projectRoot, 'samples', 'node-oversale', 'kubelet-heartbeat.json'), 'utf8'));

/** The report's review: every quantity node-oversale reads with 100,000 digits, mostly zeros. */
function hundredThousandDigits(): Json {
  const review = heartbeat();
  const node = review.request.object;
  const value = `1${'0'.repeat(100_000)}`;
  node.metadata.labels['node-role.example.com/oversale'] = 'true';
  for (const resource of ['cpu', 'memory']) {
    node.status.allocatable[resource] = value;
    node.status.capacity[resource] = value;
  }
  node.metadata.annotations['knative.netease.dev/oversale'] = JSON.stringify({
    kubelet: { cpu: value, memory: value },
    oversold: { cpu: value, memory: value },
  });
  return review;
}

/** node-oversale served by `runtime`: its review URL. */
function oversale(runtime: RuntimeUnderTest): RuntimeUnderTest {
  return { ...runtime, reviewUrl: runtime.reviewUrl.replace(/label-stamping$/, 'node-oversale') };
}

for (const name of RUNTIMES) {
  describe(`${name}: intake under a hostile tenant`, () => {
    it('64 stalled 8 MiB uploads, then 48 concurrent 8 MiB reviews: bounded memory, every connection answered', async (t) => {
      const runtime = await startRuntime(name);
      try {
        const figures = await measure(runtime);
        t.diagnostic(JSON.stringify(figures));
        t.diagnostic(
          `${name}: RSS ${figures.startMiB} MiB fresh, ${figures.stallPeakMiB} MiB peak under 64 stalled 8 MiB uploads (slowest answered after ${figures.slowestStallAnswerSeconds} s), ${figures.reviewsPeakMiB} MiB peak under 48 concurrent 8 MiB reviews, ${figures.afterReviewsMiB} MiB after`,
        );
        assert.ok(!('still open after 70 s' in figures.stallAnswers), JSON.stringify(figures.stallAnswers));
        assert.ok(
          figures.stallPeakMiB < MAX_RESIDENT_MIB,
          `${figures.stallPeakMiB} MiB under stalled uploads`,
        );
        assert.ok(
          figures.reviewsPeakMiB < MAX_RESIDENT_MIB,
          `${figures.reviewsPeakMiB} MiB under large reviews`,
        );
        // Answered, or turned away with 503 (busy) or 408 (too slow): never a connection left hanging.
        for (const status of Object.keys(figures.reviewStatuses)) {
          assert.match(status, /^(200|503|408) /, JSON.stringify(figures.reviewStatuses));
        }
        assert.ok(figures.afterReviewsMiB < MAX_RESIDENT_MIB, `${figures.afterReviewsMiB} MiB after`);
      } finally {
        await runtime.stop();
      }
    });

    it('a nodes/status review of 100,000-digit quantities blocks a concurrent review for less than 2 s', async (t) => {
      const runtime = oversale(
        await startRuntime(name, {
          ...(ENVIRONMENTS[0] as Record<string, string>),
          FUNCTION: 'node-oversale',
        }),
      );
      try {
        const body = JSON.stringify(hundredThousandDigits());
        const hostile = sendReview(runtime, body);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const started = performance.now();
        const ordinary = await sendReview(runtime, JSON.stringify(heartbeat()));
        const concurrentMs = performance.now() - started;
        const answered = await hostile;
        const hostileMs = performance.now() - started;
        t.diagnostic(
          `${name}: ${Buffer.byteLength(body)} B review of 100,000-digit quantities answered ${answered.status} in ${hostileMs.toFixed(0)} ms; a concurrent ordinary review took ${concurrentMs.toFixed(0)} ms`,
        );
        assert.equal(ordinary.status, 200, ordinary.text.slice(0, 300));
        assert.equal(answered.status, 200, answered.text.slice(0, 300));
        assert.ok(concurrentMs < 2000, `${concurrentMs.toFixed(0)} ms`);
      } finally {
        await runtime.stop();
      }
    });
  });
}
