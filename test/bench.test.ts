// The benchmark harness on a tiny run: it must start the servers, load them, and write a
// well-formed result. No timing is asserted; performance lives in `npm run bench`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { BenchResult } from '../bench/run.ts';
import { projectRoot } from './support/apiserver.ts';

const run = promisify(execFile);

describe('npm run bench (harness smoke test)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures the floor and a function, prints the tables and writes the JSON', async () => {
    const { stdout } = await run(process.execPath, [join(projectRoot, 'bench', 'main.ts')], {
      env: {
        ...process.env,
        BENCH_DURATION: '1',
        BENCH_WARMUP: '0',
        BENCH_WARM_STARTS: '1',
        BENCH_TARGETS: 'core',
        BENCH_FUNCTIONS: 'volume-extension',
        BENCH_CASES: 'knative',
        BENCH_RESULTS_DIR: dir,
      },
      timeout: 60_000,
    });
    assert.match(stdout, /Over HTTP/);
    assert.match(stdout, /\| knative +\| +floor \(first\) +\|/);
    assert.match(stdout, /Goals/);

    const files = readdirSync(dir).sort();
    assert.equal(files.length, 2, `expected <timestamp>.json and latest.json, got ${files.join(', ')}`);
    assert.ok(files.includes('latest.json'));
    const result = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchResult;
    const stamped = files.find((f) => f !== 'latest.json') as string;
    assert.deepEqual(JSON.parse(readFileSync(join(dir, stamped), 'utf8')), result);

    assert.equal(result.schema, 'faas-admission-bench/1');
    assert.ok(result.machine.nproc >= 1 && result.machine.cpu && result.machine.node === process.version);
    assert.deepEqual(
      result.cases.map((c) => c.name),
      ['knative'],
    );
    assert.deepEqual(
      result.http.map((r) => [r.case, r.target, r.function, r.tracing]),
      [
        ['knative', 'floor', null, 'n/a'],
        ['knative', 'core', 'volume-extension', 'n/a'],
        ['knative', 'floor', null, 'n/a'],
      ],
    );
    for (const row of result.http) {
      assert.ok(row.load.requests > 0, `${row.target}: no requests answered`);
      assert.equal(row.load.errors, 0, `${row.target}: errors under load`);
      for (const value of [
        row.load.requestsPerSecond,
        row.load.latencyMs.p50,
        row.load.latencyMs.p99,
        row.peakRssMb,
        row.cpuUsPerRequest,
        row.ratioToFloor,
      ]) {
        assert.ok(
          typeof value === 'number' && Number.isFinite(value) && value > 0,
          `${row.target}: ${value}`,
        );
      }
    }
    assert.deepEqual(
      result.starts.map((s) => [s.target, s.functions]),
      [
        ['floor', []],
        ['core', ['volume-extension']],
      ],
    );
    for (const start of result.starts) {
      assert.ok(start.coldMs > 0 && start.warmMs > 0, JSON.stringify(start));
    }
    const [floor, core, floorAgain] = result.http;
    assert.deepEqual([floor?.floorRun, core?.floorRun, floorAgain?.floorRun], ['first', undefined, 'last']);
    // Ratios are to the mean of the two floor runs.
    assert.ok(Math.abs((floor?.ratioToFloor ?? 0) + (floorAgain?.ratioToFloor ?? 0) - 2) < 0.01);
    // The function really mutated the review: the bench measures the mutation, not a skip or a denial.
    assert.deepEqual(core?.reply, {
      allowed: true,
      patch: ['add /spec/containers/0/volumeMounts/1', 'add /spec/volumes/1'],
    });

    assert.deepEqual(
      result.inProcess.map((r) => [r.function, r.case]),
      [['volume-extension', 'knative']],
    );
    assert.ok((result.inProcess[0]?.reviews ?? 0) > 0);
    assert.ok(result.goals.length > 0);
    for (const goal of result.goals) {
      assert.ok(goal.pass === null || typeof goal.pass === 'boolean', goal.goal);
      assert.ok(goal.measured === null || Number.isFinite(goal.measured), goal.goal);
    }
    const patchGoal = result.goals.find((g) => /only add operations/.test(g.goal));
    assert.equal(patchGoal?.pass, true);
  });
});
