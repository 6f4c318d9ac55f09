// Work that grows faster than its input holds up every other review on the process: one
// nodes/status review of 107 kB whose quantities had 100,000 digits blocked the event loop for
// about 9 s. The worst reviews the limits allow, sent to the deployed runtime, must leave a
// concurrent ordinary review answered well inside the apiserver's budget.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MAX_QUANTITY_DIGITS } from '../shared/k8s/quantity.ts';
import { projectRoot } from './support/apiserver.ts';
import { ENVIRONMENTS } from './support/environments.ts';
import { postReview, type RunningFunction, startFunction } from './support/function-process.ts';
import type { Json } from './support/reviews.ts';

const heartbeat = (): Json =>
  JSON.parse(readFileSync(join(projectRoot, 'samples', 'node-oversale', 'kubelet-heartbeat.json'), 'utf8'));

/** The heartbeat with every quantity node-oversale reads set to `value`. */
function withQuantities(value: string): Json {
  const review = heartbeat();
  const status = review.request.object.status;
  for (const resource of ['cpu', 'memory']) {
    status.allocatable[resource] = value;
    status.capacity[resource] = value;
  }
  const record = { kubelet: { cpu: value, memory: value }, oversold: { cpu: value, memory: value } };
  review.request.object.metadata.annotations['knative.netease.dev/oversale'] = JSON.stringify(record);
  return review;
}

const hostile: [string, Json][] = [
  // The report: 100,000 digits, most of them trailing zeros (the formatter divided by 10 per zero).
  ['100,000-digit quantities', withQuantities(`1${'0'.repeat(100_000)}`)],
  // The largest values the limits allow: all the digits, the largest exponent.
  ['quantities at the digit and exponent limits', withQuantities(`${'9'.repeat(MAX_QUANTITY_DIGITS)}e1000`)],
  ['quantities with the most trailing zeros', withQuantities(`1${'0'.repeat(MAX_QUANTITY_DIGITS - 1)}`)],
];

describe('work bounded by the input, under faas-js-runtime', () => {
  let fn: RunningFunction;
  before(async () => {
    fn = await startFunction('node-oversale', { ...ENVIRONMENTS[0], LOG_LEVEL: 'silent' });
  });
  after(async () => {
    await fn?.stop();
  });

  for (const [name, review] of hostile) {
    it(`${name}: answered, and a concurrent review is answered within 2 s`, async () => {
      const ordinary = heartbeat();
      const slow = postReview(fn.url, review, { timeout: '10s' });
      // Sent once the hostile review is surely on the process (its body is ~100 kB).
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = performance.now();
      const reply = await postReview(fn.url, ordinary, { timeout: '10s' });
      const elapsed = performance.now() - started;
      assert.equal(reply.status, 200);
      assert.equal((reply.body as Json).response.allowed, true);
      const answered = await slow;
      assert.equal(answered.status, 200, JSON.stringify(answered.body).slice(0, 300));
      // A wide bound: an ordinary review takes milliseconds; the quadratic formatter took seconds.
      assert.ok(elapsed < 2000, `the ordinary review took ${elapsed.toFixed(0)} ms`);
    });
  }
});
