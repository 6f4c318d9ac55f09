// Runs the benchmark: start times, then every case against the floors and every target (each
// function, tracing off and on where it can be switched), each process fresh; then the core in
// process. Returns the figures; printing and saving are the caller's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { functions as allFunctions } from '../functions/index.ts';
import { projectRoot } from '../test/support/apiserver.ts';
import { type BenchCase, benchCases } from './cases.ts';
import {
  CASE,
  DEPLOYED_TARGETS,
  evaluateGoals,
  type GoalResult,
  type TopologyRow,
  topology,
} from './goals.ts';
import { type InProcessResult, measureInProcess } from './in-process.ts';
import { type HttpRow, type MeasureOptions, measureRun, type Run, runsOf } from './measure.ts';
import { startOtlpSink } from './otlp-sink.ts';
import { measureSideBySide, type SideBySide } from './side-by-side.ts';
import { measureStarts, type StartRow } from './starts.ts';
import { benchFunctions, floors, type Target, targets } from './targets.ts';
import { makeCertificate } from './tls.ts';
import { assertWrkInstalled } from './wrk.ts';

export type { HttpRow } from './measure.ts';

export interface BenchOptions {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  /** Warm starts per server, after its cold start; their median is reported. */
  warmStarts: number;
  /**
   * Only these targets / functions / cases. Empty: all cases, and the targets and functions not
   * marked onRequest. The floors always run.
   */
  targets: string[];
  functions: string[];
  cases: string[];
  /** Skip the in-process measurement. */
  skipInProcess: boolean;
  log: (line: string) => void;
}

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  kernel: string;
  /** 1, 5 and 15 minutes, when the bench started and when it ended: other work skews the figures. */
  loadAverage: { start: number[]; end: number[] };
}

export interface BenchResult {
  schema: 'faas-admission-bench/1';
  startedAt: string;
  finishedAt: string;
  commit: string;
  command: string;
  options: Omit<BenchOptions, 'log'>;
  machine: Machine;
  cases: { name: string; description: string; bytes: number }[];
  starts: StartRow[];
  http: HttpRow[];
  inProcess: InProcessResult[];
  goals: GoalResult[];
  /** Every function one process each, all at once: the deployed path and the Go webhook. */
  sideBySide: SideBySide[];
  /** Every function one pod each against one pod serving all: memory and latency. */
  topology: TopologyRow[];
}

const loadAverageNow = () => loadavg().map((l) => Math.round(l * 100) / 100);

function machine(loadAtStart: number[]): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return {
    nproc: cpus().length,
    cpu: model ?? cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadAverage: { start: loadAtStart, end: loadAverageNow() },
  };
}

/** The commit measured, `+changes` when the code served differs from it. */
function commit(): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: projectRoot, encoding: 'utf8' }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'shared', 'functions', 'runtimes');
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? '+changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 && Number.isFinite(numerator)
    ? Math.round((numerator / denominator) * 1000) / 1000
    : null;
}

/** Compares every row with the mean of the two runs of the floor of its scheme. */
function setRatios(rows: HttpRow[]): void {
  for (const row of rows) {
    const floorRows = rows.filter((f) => f.floorRun && f.scheme === row.scheme);
    const mean = (value: (r: HttpRow) => number) =>
      floorRows.reduce((sum, r) => sum + value(r), 0) / floorRows.length;
    row.ratioToFloor = ratio(
      row.load.requestsPerSecond,
      mean((r) => r.load.requestsPerSecond),
    );
    row.cpuRatioToFloor = ratio(
      mean((r) => r.cpuUsPerRequest),
      row.cpuUsPerRequest,
    );
  }
}

/**
 * The topology's one pod per function as it runs, on the Knative review: every function on the
 * first deployed target chosen, one process each, all at once; the Go webhook, which serves one
 * function, as many times.
 */
async function measureTopology(
  chosen: readonly Target[],
  cases: readonly BenchCase[],
  workDir: string,
  options: MeasureOptions,
): Promise<SideBySide[]> {
  const benchCase = cases.find((c) => c.name === CASE);
  if (!benchCase) return [];
  const bodyFile = join(workDir, `${benchCase.name}.json`);
  const deployed = DEPLOYED_TARGETS.map((name) => chosen.find((t) => t.name === name)).find(Boolean);
  const go = chosen.find((t) => t.name === 'go-webhook');
  const result: SideBySide[] = [];
  if (deployed) result.push(await measureSideBySide(deployed, benchFunctions, benchCase, bodyFile, options));
  const goFunction = benchFunctions.find((fn) => go?.functions?.includes(fn.name));
  if (go && goFunction) {
    const copies = benchFunctions.map(() => goFunction);
    result.push(await measureSideBySide(go, copies, benchCase, bodyFile, options));
  }
  return result;
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const loadAtStart = loadAverageNow();
  const pick = <T extends { name: string; onRequest?: boolean }>(all: readonly T[], wanted: string[]) =>
    wanted.length === 0
      ? all.filter((item) => !item.onRequest)
      : all.filter((item) => wanted.includes(item.name));
  const cases = pick(benchCases(), options.cases);
  const functions = pick(benchFunctions, options.functions);
  const chosen = pick(targets, options.targets);
  const schemes = new Set(['https', ...chosen.map((t) => t.scheme)]);
  const floorRuns = Object.values(floors)
    .filter((floor) => schemes.has(floor.scheme))
    .flatMap((floor) => runsOf(floor, functions));
  // Tracing on and off side by side on the first case (the Knative review the goals are about),
  // off only on the others, to keep the whole run to a few minutes.
  const targetRuns = (withTracing: boolean) => chosen.flatMap((t) => runsOf(t, functions, withTracing));
  if (cases.length === 0) throw new Error(`no case named ${options.cases.join(', ')}`);
  if (functions.length === 0) throw new Error(`no function named ${options.functions.join(', ')}`);

  await assertWrkInstalled();
  for (const target of [...Object.values(floors), ...chosen]) await target.prepare?.(options.log);
  const workDir = mkdtempSync(join(tmpdir(), 'faas-admission-bench-'));
  const otlp = await startOtlpSink();
  const http: HttpRow[] = [];
  let starts: StartRow[] = [];
  let sideBySide: SideBySide[] = [];
  try {
    const tls = makeCertificate(workDir);
    // The servers' temp dir, where npm start keeps Node's compile cache: warm after the first
    // start, as for a restarted container. measureStarts times cold starts apart.
    const serverTmp = join(workDir, 'tmp');
    mkdirSync(serverTmp);
    const measureOptions: MeasureOptions = { ...options, tls, workDir, serverTmp, otlp };
    starts = await measureStarts([...floorRuns, ...targetRuns(false)], cases[0] as BenchCase, {
      tls,
      workDir,
      warmStarts: options.warmStarts,
      otlpEndpoint: otlp.endpoint,
      log: options.log,
    });
    for (const [i, benchCase] of cases.entries()) {
      const bodyFile = join(workDir, `${benchCase.name}.json`);
      writeFileSync(bodyFile, benchCase.body);
      const measureAll = async (runs: Run[]) => {
        const rows: HttpRow[] = [];
        for (const run of runs) rows.push(...(await measureRun(run, benchCase, bodyFile, measureOptions)));
        return rows;
      };
      // The floors run first and again last: the machine's load may change while the targets
      // run, so each target is compared with the mean of its floor's two runs.
      const first = await measureAll(floorRuns);
      const measured = await measureAll(targetRuns(i === 0));
      const last = await measureAll(floorRuns);
      for (const row of first) row.floorRun = 'first';
      for (const row of last) row.floorRun = 'last';
      const rows = [...first, ...measured, ...last];
      setRatios(rows);
      http.push(...rows);
    }
    sideBySide = await measureTopology(chosen, cases, workDir, measureOptions);
  } finally {
    await otlp.close();
    rmSync(workDir, { recursive: true, force: true });
  }

  const inProcess: InProcessResult[] = [];
  if (!options.skipInProcess) {
    for (const fn of functions) {
      for (const benchCase of cases) {
        options.log(`in-process ${fn.name} ${benchCase.name}`);
        inProcess.push(measureInProcess(fn, benchCase, Math.min(1, options.durationSeconds / 2)));
      }
    }
  }

  const { log: _log, ...recorded } = options;
  return {
    schema: 'faas-admission-bench/1',
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: commit(),
    command: 'npm run bench',
    options: recorded,
    machine: machine(loadAtStart),
    cases: cases.map((c) => ({ name: c.name, description: c.description, bytes: Buffer.byteLength(c.body) })),
    starts,
    http,
    inProcess,
    goals: evaluateGoals(http, starts, inProcess),
    sideBySide,
    topology: topology(http, allFunctions.size, sideBySide),
  };
}
