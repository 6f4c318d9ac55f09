// The benchmark harness on a tiny run: it must start the servers, load them, and write a
// well-formed result. No timing is asserted; performance lives in `npm run bench`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type BenchCase, benchCases } from '../bench/cases.ts';
import { evaluateGoals, topology } from '../bench/goals.ts';
import type { HttpRow } from '../bench/measure.ts';
import { startOtlpSink } from '../bench/otlp-sink.ts';
import type { BenchResult } from '../bench/run.ts';
import { startServer, stopServer } from '../bench/server-process.ts';
import { measureSideBySide } from '../bench/side-by-side.ts';
import { benchFunctions, targets } from '../bench/targets.ts';
import { makeCertificate } from '../bench/tls.ts';
import { apiserverVerdict, projectRoot } from './support/apiserver.ts';
import { answer, sharedFixture } from './support/reviews.ts';

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
    assert.match(stdout, /Targets \(issue 16/);

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

  it('compares with a Go webhook that does the same work: the same object once patched', async () => {
    const go = targets.find((t) => t.name === 'go-webhook');
    assert.ok(go?.prepare);
    await go.prepare(() => {});
    const tls = makeCertificate(dir);
    const reviewed = sharedFixture('knative-pod-netease-annotations.v1.json');
    const command = go.command({ tls, tracing: 'n/a', otlpEndpoint: '', functions: [] });
    const server = await startServer(command, undefined, JSON.stringify(reviewed), tls.cert);
    try {
      // volume-extension as the bench configures it (the sample policy admitting the hostPath).
      const env = benchFunctions.find((fn) => fn.name === 'volume-extension')?.env;
      const theirs = await apiserverVerdict(reviewed, JSON.parse(server.firstReply.body));
      const ours = await apiserverVerdict(reviewed, answer('volume-extension', reviewed, { ...env }));
      assert.ok(theirs.accepted && theirs.allowed, JSON.stringify(theirs));
      assert.ok(ours.accepted && ours.allowed, JSON.stringify(ours));
      assert.deepEqual(theirs.object, ours.object);
      assert.notDeepEqual(theirs.object, reviewed.request.object);
    } finally {
      await stopServer(server.process);
    }
  });

  const row = (fields: Partial<HttpRow>): HttpRow =>
    ({
      case: 'knative',
      target: 'image',
      scheme: 'http',
      function: 'volume-extension',
      tracing: 'off',
      startMs: 1,
      peakRssMb: 70,
      reply: { allowed: true, patch: ['add /spec/volumes/1'] },
      load: {
        requests: 1,
        durationSeconds: 1,
        requestsPerSecond: 1,
        latencyMs: { p50: 1, p99: 3, max: 3, mean: 1 },
        errors: 0,
      },
      ratioToFloor: 0.5,
      cpuUsPerRequest: 80,
      cpuRatioToFloor: 0.5,
      ...fields,
    }) as HttpRow;

  it('judges the deployed path against the Go webhook, tracing off, and tracing on against off', () => {
    const goals = evaluateGoals(
      [
        row({ tracing: 'off', cpuUsPerRequest: 80 }),
        row({ tracing: 'on', cpuUsPerRequest: 120, peakRssMb: 95 }),
        row({ target: 'go-webhook', tracing: 'n/a', cpuUsPerRequest: 200, peakRssMb: 17 }),
        row({ target: 'standalone', cpuUsPerRequest: 10 }),
      ],
      [],
      [],
    );
    const goal = (text: RegExp) => goals.find((g) => text.test(g.goal));
    assert.deepEqual([goal(/over the Go webhook/)?.measured, goal(/over the Go webhook/)?.pass], [0.4, true]);
    assert.deepEqual([goal(/span exported/)?.measured, goal(/span exported/)?.pass], [1.5, false]);
    // Memory is judged as deployed (tracing off), the span exporter's share shown in its own row.
    assert.deepEqual([goal(/peak RSS/)?.measured, goal(/peak RSS/)?.pass], [70, true]);
    // Only the deployed path is judged: the Go webhook and the standalone server are compared with.
    assert.ok(goals.every((g) => !/^(go-webhook|standalone)/.test(g.where)));
  });

  it('judges starts by the slowest function, and the 1 MiB review one at a time', () => {
    const single = { ...row({}).load, latencyMs: { p50: 7, p99: 9, max: 9, mean: 7 } };
    const goals = evaluateGoals(
      [row({}), row({ case: 'knative-1mib', singleConnection: single })],
      [
        { target: 'image', functions: ['volume-extension'], coldMs: 200, warmMs: 100 },
        { target: 'image', functions: ['node-selector'], coldMs: 300, warmMs: 140 },
      ],
      [],
    );
    const goal = (text: RegExp) => goals.find((g) => text.test(g.goal));
    assert.deepEqual([goal(/1 MiB review \(p50/)?.measured, goal(/1 MiB review \(p50/)?.pass], [7, true]);
    assert.deepEqual([goal(/warm/)?.measured, goal(/warm/)?.pass], [140, true]);
    assert.deepEqual([goal(/cold/)?.measured, goal(/cold/)?.pass], [300, false]);
    assert.equal(goal(/only add operations/)?.pass, true);
  });

  it('sets one pod per function against one pod serving all, in memory and latency', () => {
    const rows = [
      row({ function: 'volume-extension', peakRssMb: 70 }),
      row({ function: 'node-selector', peakRssMb: 75 }),
      row({ target: 'standalone', peakRssMb: 150 }),
      row({ target: 'standalone', function: 'node-selector', peakRssMb: 150 }),
    ];
    const [each, all] = topology(rows, 8);
    assert.deepEqual([each?.processes, each?.memoryMb, each?.oneNodeMb], [8, 600, null]);
    assert.deepEqual([all?.processes, all?.memoryMb], [1, 150]);
    assert.equal(each?.p99Ms, 3);

    // Measured side by side, the figures are those of the processes that ran at once.
    const sideBySide = [
      {
        target: 'image',
        functions: ['volume-extension', 'node-selector', 'label-stamping'],
        rssMb: 220,
        pssMb: 95,
      },
      { target: 'go-webhook', functions: ['volume-extension', 'volume-extension'], rssMb: 30, pssMb: 20 },
    ];
    const go = row({ target: 'go-webhook', tracing: 'n/a', peakRssMb: 17 });
    const [measured, , goRow] = topology([...rows, go], 8, sideBySide);
    assert.deepEqual([measured?.processes, measured?.memoryMb, measured?.oneNodeMb], [3, 220, 95]);
    assert.deepEqual([goRow?.processes, goRow?.memoryMb, goRow?.oneNodeMb], [2, 30, 20]);
  });

  it('shows the bare Node floor of the same scheme beside the peak RSS judged', () => {
    const goals = evaluateGoals(
      [
        row({ target: 'floor-http', function: null, tracing: 'n/a', floorRun: 'first', peakRssMb: 81.6 }),
        row({
          target: 'floor',
          scheme: 'https',
          function: null,
          tracing: 'n/a',
          floorRun: 'first',
          peakRssMb: 99,
        }),
        row({ peakRssMb: 84.8 }),
      ],
      [],
      [],
    );
    const rss = goals.find((g) => /peak RSS/.test(g.goal));
    assert.deepEqual(
      [rss?.where, rss?.measured, rss?.pass],
      ['image (bare Node floor: 81.6 MB)', 84.8, false],
    );
  });

  it("shows the bare Node floor's CPU per review over the Go webhook's beside the ratio judged", () => {
    const floor = { function: null, tracing: 'n/a' } as const;
    const goals = evaluateGoals(
      [
        row({ ...floor, target: 'floor-http', floorRun: 'first', cpuUsPerRequest: 80 }),
        row({ ...floor, target: 'floor-http', floorRun: 'last', cpuUsPerRequest: 100 }),
        row({ ...floor, target: 'floor', scheme: 'https', floorRun: 'first', cpuUsPerRequest: 500 }),
        row({ cpuUsPerRequest: 240 }),
        row({ target: 'go-webhook', tracing: 'n/a', cpuUsPerRequest: 150 }),
      ],
      [],
      [],
    );
    const cpu = goals.find((g) => /over the Go webhook/.test(g.goal));
    assert.deepEqual(
      [cpu?.where, cpu?.measured, cpu?.pass],
      ['image vs go-webhook (bare Node floor: 0.6 ×)', 1.6, false],
    );
  });

  it('runs a process per function at once and adds up their memory, the shared pages once', async () => {
    const image = targets.find((t) => t.name === 'image');
    assert.ok(image);
    await image.prepare?.(() => {});
    const benchCase = benchCases().find((c) => c.name === 'knative') as BenchCase;
    const workDir = mkdtempSync(join(dir, 'side-'));
    const bodyFile = join(workDir, 'knative.json');
    writeFileSync(bodyFile, benchCase.body);
    const fns = benchFunctions.filter((fn) => ['volume-extension', 'node-selector'].includes(fn.name));
    const otlp = await startOtlpSink();
    const result = await measureSideBySide(image, fns, benchCase, bodyFile, {
      durationSeconds: 1,
      warmupSeconds: 0,
      connections: 4,
      tls: makeCertificate(workDir),
      workDir,
      serverTmp: workDir,
      otlp,
      log: () => {},
    }).finally(() => otlp.close());
    assert.deepEqual(result.functions, ['volume-extension', 'node-selector']);
    // Two processes of one executable: each holds its pages, together they hold them once.
    assert.ok(result.rssMb > 2 * 30, `RSS added up ${result.rssMb} MB`);
    assert.ok(
      result.pssMb > 0 && result.pssMb < result.rssMb,
      `PSS ${result.pssMb} MB, RSS ${result.rssMb} MB`,
    );
  });
});
