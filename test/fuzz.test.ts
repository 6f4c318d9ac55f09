// The fuzz run inside `npm test`: a few thousand bodies (FUZZ_TEST_COUNT), a new seed each
// run unless FUZZ_SEED is set, so CI keeps exploring. `npm run fuzz` runs 100,000.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fuzz } from './fuzz/harness.ts';
import { registeredNames } from './support/registry.ts';

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
  // Every registered function, taken from the registry, not from a list kept here.
  assert.deepEqual(Object.keys(report.byFunction), registeredNames());
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

// The hostile-tenant classes, each with its oracle; `npm run fuzz` runs 1,000 cases of each.
const classCount = Number(process.env.FUZZ_CLASS_TEST_COUNT ?? 200);
it(`fuzz classes: ${classCount} cases of each hostile-tenant class (seed ${seed})`, {
  timeout: 600_000,
}, async (t) => {
  const { HOSTILE_CLASSES } = await import('./fuzz/classes.ts');
  const { fuzzClasses } = await import('./fuzz/harness.ts');
  const reports = await fuzzClasses({ count: classCount, seed, runtimes: true });
  for (const r of reports) {
    t.diagnostic(
      `${r.name}: ${r.cases} cases, ${r.allowed} admitted, ${r.denied} denied, ${r.refused} refused, ${r.overRuntimes} over the runtimes`,
    );
  }
  assert.deepEqual(
    reports.flatMap((r) => r.failures),
    [],
    `replay with FUZZ_SEED=${seed}`,
  );
  assert.deepEqual(
    reports.map((r) => r.name),
    HOSTILE_CLASSES.map((c) => c.name),
  );
  const byName = Object.fromEntries(reports.map((r) => [r.name, r]));
  // An oracle that never sees an admitted pod proves nothing; nor one that never sees a denial.
  for (const name of ['hostpath-tricks', 'mount-sites', 'ephemeral-containers', 'volume-types']) {
    assert.ok(
      (byName[name]?.allowed ?? 0) > 0 && (byName[name]?.denied ?? 0) > 0,
      `${name}: ${JSON.stringify(byName[name])}`,
    );
  }
  assert.ok((byName['prototype-keys']?.overRuntimes ?? 0) > 0, 'prototype-keys went over every runtime');
});
