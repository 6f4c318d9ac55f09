// The fuzz run inside `npm test`: a few thousand bodies (FUZZ_TEST_COUNT), a new seed each
// run unless FUZZ_SEED is set, so CI keeps exploring. `npm run fuzz` runs 100,000.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzz } from './fuzz/harness.ts';

const count = Number(process.env.FUZZ_TEST_COUNT ?? 5_000);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 1_000_000));
const title = `fuzz: ${count} generated and mutated reviews through every function (seed ${seed})`;

// The time limit only turns a hang into a failure; it is far above the usual run time.
it(title, { timeout: 600_000 }, async (t) => {
  const report = await fuzz({ count, seed, httpEvery: 5 });
  t.diagnostic(
    `${report.bodies} bodies (${report.overHttp} over HTTP), ${report.answers} answers, ${report.judged} judged, ${Math.round(report.durationMs)} ms`,
  );
  assert.deepEqual(report.failures, [], `replay with FUZZ_SEED=${seed}`);
  // The run must reach every path, or it proves nothing.
  assert.ok(report.overHttp > 0, 'some bodies went over HTTP');
  assert.ok((report.statuses[400] ?? 0) > 0, 'some bodies were refused with a 400');
  for (const [name, counts] of Object.entries(report.byFunction)) {
    assert.ok(counts.allowed > 0, `${name} allowed some objects: ${JSON.stringify(counts)}`);
  }
  for (const name of ['volume-extension', 'node-selector', 'label-stamping']) {
    assert.ok((report.byFunction[name]?.patched ?? 0) > 0, `${name} patched some objects`);
  }
  // label-stamping never denies; the others refuse what the annotations get wrong.
  for (const name of ['volume-extension', 'node-selector', 'knative-service-validation']) {
    assert.ok((report.byFunction[name]?.denied ?? 0) > 0, `${name} denied some objects`);
  }
});
