// Property-based fuzz run over every function: generated and mutated AdmissionReviews,
// in-process and over HTTP, every answer checked and judged as the apiserver would.
//
//   npm run fuzz                     100,000 bodies, a third over HTTP
//   npm run fuzz -- --count 20000 --seed 42 --http-every 2
//
// Exit 1 when any answer is wrong; the failing bodies are written out for
// `npm run --silent invoke -- <function> <file>`.
import { parseArgs } from 'node:util';
import { fuzz } from '../test/fuzz/harness.ts';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: process.env.FUZZ_COUNT ?? '100000' },
    seed: { type: 'string', default: process.env.FUZZ_SEED ?? String(Date.now() % 1_000_000) },
    'http-every': { type: 'string', default: '3' },
  },
});
const count = Number(values.count);
const seed = Number(values.seed);
const httpEvery = Number(values['http-every']);
for (const [flag, n] of [
  ['--count', count],
  ['--seed', seed],
  ['--http-every', httpEvery],
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
process.exit(report.failures.length > 0 ? 1 : 0);
