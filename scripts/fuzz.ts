// Property-based fuzz run over every function: generated and mutated AdmissionReviews,
// in-process and over HTTP, every answer checked and judged as the apiserver would.
//
// Then the hostile-tenant classes (test/fuzz/classes.ts), each with its own oracle: the volume
// policy against the pod the apiserver ends up with, duplicate keys, unknown annotations,
// prototype-named keys over every runtime, quantities of 200,000 digits, deep nesting.
//
//   npm run fuzz                     100,000 bodies, a third over HTTP, 1,000 cases per class
//   npm run fuzz -- --count 20000 --seed 42 --http-every 2
//   npm run fuzz -- --count 0 --class mount-sites --class-count 5000    one class only
//
// Exit 1 when any answer is wrong; the failing bodies are written out for
// `npm run --silent invoke -- <function> <file>`.
import { parseArgs } from 'node:util';
import { HOSTILE_CLASSES } from '../test/fuzz/classes.ts';
import { fuzz, fuzzClasses } from '../test/fuzz/harness.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: process.env.FUZZ_COUNT ?? '100000' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000) },
    'http-every': { type: 'string', default: '3' },
    class: { type: 'string', multiple: true },
    'class-count': { type: 'string', default: process.env.FUZZ_CLASS_COUNT ?? '1000' },
    'no-runtimes': { type: 'boolean', default: false },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const httpEvery = Number(values['http-every']);
const classCount = Number(values['class-count']);
const known = HOSTILE_CLASSES.map((c) => c.name);
for (const name of values.class ?? []) {
  if (!known.includes(name)) {
    process.stderr.write(`fuzz: --class ${name}: no such class (known: ${known.join(', ')})\n`);
    process.exit(2);
  }
}
for (const [flag, n] of [
  ['--count', count],
  ['--seed', seed],
  ['--http-every', httpEvery],
  ['--class-count', classCount],
] as const) {
  if (!Number.isSafeInteger(n) || n < 0) {
    process.stderr.write(`fuzz: ${flag} must be a whole number\n`);
    process.exit(2);
  }
}

const report = await fuzz({
  count,
  seed,
  httpEvery,
  progress: (done) => process.stderr.write(`\rfuzz: ${done}/${count} bodies`),
});
process.stderr.write('\n');
const seconds = (report.durationMs / 1000).toFixed(1);
process.stdout.write(
  `${JSON.stringify({ ...report, durationMs: Math.round(report.durationMs), slowestMs: Math.round(report.slowestMs) }, null, 2)}\n` +
    `fuzz: ${report.bodies} bodies (${report.overHttp} over HTTP), ${report.answers} answers, ${report.judged} judged by admission-check, ${report.failures.length} failures in ${seconds} s (seed ${seed})\n`,
);

const classes = await fuzzClasses({
  count: classCount,
  seed,
  ...(values.class ? { only: values.class } : {}),
  runtimes: !values['no-runtimes'],
});
let classFailures = 0;
for (const c of classes) {
  classFailures += c.failures.length;
  for (const failure of c.failures) process.stdout.write(`  FAIL ${failure.function}: ${failure.reason}\n`);
  process.stdout.write(
    `fuzz class ${c.name}: ${c.cases} cases, ${c.allowed} admitted, ${c.denied} denied, ${c.refused} refused${c.overRuntimes ? `, ${c.overRuntimes} over the runtimes` : ''}, slowest ${Math.round(c.slowestMs)} ms, ${c.failures.length} failures\n`,
  );
}
process.exit(report.failures.length + classFailures > 0 ? 1 : 0);
