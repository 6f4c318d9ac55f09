// `npm run bench`: runs the benchmark, prints the tables, writes the figures as JSON to
// bench/results/<timestamp>.json and bench/results/latest.json.
//
//   BENCH_DURATION=2     seconds of load per case and target (whole seconds, at least 1)
//   BENCH_WARMUP=1       seconds of load before each measurement, not counted (0: none)
//   BENCH_CONNECTIONS=16
//   BENCH_WARM_STARTS=3  warm starts timed per server after its cold start (median reported)
//   BENCH_TARGETS, BENCH_FUNCTIONS, BENCH_CASES   comma-separated names to run only those
//   BENCH_IN_PROCESS=0   skip the in-process measurement
//   BENCH_RESULTS_DIR=bench/results
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../test/support/apiserver.ts';
import { report } from './report.ts';
import { runBench } from './run.ts';

function number(name: string, fallback: number, min: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min) {
    process.stderr.write(`bench: ${name} must be a number of at least ${min}, got "${text}"\n`);
    process.exit(2);
  }
  return value;
}

const list = (name: string) =>
  (process.env[name] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

const result = await runBench({
  durationSeconds: Math.round(number('BENCH_DURATION', 2, 1)),
  warmupSeconds: Math.round(number('BENCH_WARMUP', 1, 0)),
  connections: Math.round(number('BENCH_CONNECTIONS', 16, 1)),
  warmStarts: Math.round(number('BENCH_WARM_STARTS', 3, 1)),
  targets: list('BENCH_TARGETS'),
  functions: list('BENCH_FUNCTIONS'),
  cases: list('BENCH_CASES'),
  skipInProcess: process.env.BENCH_IN_PROCESS === '0',
  log: (line) => process.stderr.write(`bench: ${line}\n`),
});

process.stdout.write(`\n${report(result)}\n`);
const dir = process.env.BENCH_RESULTS_DIR ?? join(projectRoot, 'bench', 'results');
mkdirSync(dir, { recursive: true });
const json = `${JSON.stringify(result, null, 2)}\n`;
const stamped = join(dir, `${result.startedAt.replace(/[:.]/g, '-')}.json`);
writeFileSync(stamped, json);
writeFileSync(join(dir, 'latest.json'), json);
process.stderr.write(`bench: figures written to ${stamped} and latest.json\n`);
