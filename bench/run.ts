// Runs the benchmark: every case against the floor and every target (each function, tracing
// off and on where it can be switched), each in a fresh server process; then the core in
// process. Returns the figures; printing and saving are the caller's.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../test/support/apiserver.ts';
import { type BenchCase, benchCases } from './cases.ts';
import { evaluateGoals, type GoalResult } from './goals.ts';
import { type InProcessResult, measureInProcess } from './in-process.ts';
import { cpuTimeMs, freePort, peakRssMb, type Reply, startServer, stopServer } from './server-process.ts';
import { measureStarts, type StartRow } from './starts.ts';
import { type BenchFunction, benchFunctions, floors, type Scheme, type Target, targets } from './targets.ts';
import { makeCertificate } from './tls.ts';
import { assertWrkInstalled, type LoadResult, load } from './wrk.ts';

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

export type Tracing = 'on' | 'off' | 'n/a';

export interface HttpRow {
  case: string;
  target: string;
  scheme: Scheme;
  function: string | null;
  tracing: Tracing;
  /** This process's start to first answer (compile cache warm; `starts` has the controlled figures). */
  startMs: number;
  /** Kernel's high-water mark of resident memory, through warm-up and the measured load. */
  peakRssMb: number;
  /** The first reply: proof that the server did the work measured (a mutation, not a denial). */
  reply: { allowed: boolean; patch: string[] };
  load: LoadResult;
  /** Floors only: measured before or after the targets of the case. */
  floorRun?: 'first' | 'last';
  /** req/s divided by the mean of the floor's two runs on the same case and scheme. */
  ratioToFloor: number | null;
  /** Server CPU time (all threads) per request during the measured load, in microseconds. */
  cpuUsPerRequest: number;
  /** The floor's CPU per request divided by this one's: like ratioToFloor, but steadier on a busy machine. */
  cpuRatioToFloor: number | null;
  /** One connection, one request at a time (cases whose goal is a time per review). */
  singleConnection?: LoadResult;
}

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  kernel: string;
  loadAverage: number[];
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
}

function machine(): Machine {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return {
    nproc: cpus().length,
    cpu: model ?? cpus()[0]?.model ?? 'unknown',
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'shared', 'functions', 'runtimes'], {
      cwd: projectRoot,
      encoding: 'utf8',
    });
    return `${head.trim()}${dirty.trim() ? '+changes' : ''}`;
  } catch {
    return 'unknown';
  }
}

function ratio(numerator: number, denominator: number): number | null {
  return denominator > 0 && Number.isFinite(numerator)
    ? Math.round((numerator / denominator) * 1000) / 1000
    : null;
}

/** Reads the first reply and refuses to measure a server that answers something else. */
function checkReply(reply: Reply, benchCase: BenchCase, where: string): HttpRow['reply'] {
  // biome-ignore lint/suspicious/noExplicitAny: a reply from the wire, checked field by field
  let review: any;
  try {
    review = JSON.parse(reply.body);
  } catch {
    throw new Error(`${where}: the reply is not JSON: ${reply.body.slice(0, 200)}`);
  }
  const uid = benchCase.review.request.uid;
  if (review?.kind !== 'AdmissionReview' || review.response?.uid !== uid) {
    throw new Error(`${where}: not an AdmissionReview for uid ${uid}: ${reply.body.slice(0, 300)}`);
  }
  const response = review.response;
  const patch: { op: string; path: string }[] = response.patch
    ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'))
    : [];
  return { allowed: response.allowed === true, patch: patch.map((op) => `${op.op} ${op.path}`) };
}

export interface Run {
  target: Target;
  fn?: BenchFunction;
  tracing: Tracing;
}

function runsOf(target: Target, functions: readonly BenchFunction[]): Run[] {
  const modes: Tracing[] = target.tracing ? ['off', 'on'] : ['n/a'];
  if (!target.perFunction) return [{ target, tracing: 'n/a' }];
  return functions.flatMap((fn) => modes.map((tracing) => ({ target, fn, tracing })));
}

export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const startedAt = new Date().toISOString();
  const pick = <T extends { name: string; onRequest?: boolean }>(all: readonly T[], wanted: string[]) =>
    wanted.length === 0
      ? all.filter((item) => !item.onRequest)
      : all.filter((item) => wanted.includes(item.name));
  const cases = pick(benchCases(), options.cases);
  const functions = pick(benchFunctions, options.functions);
  const chosen = pick(targets, options.targets);
  const schemes = new Set(['https', ...chosen.map((t) => t.scheme)]);
  const floorTargets = Object.values(floors).filter((floor) => schemes.has(floor.scheme));
  if (cases.length === 0) throw new Error(`no case named ${options.cases.join(', ')}`);
  if (functions.length === 0) throw new Error(`no function named ${options.functions.join(', ')}`);

  await assertWrkInstalled();
  const workDir = mkdtempSync(join(tmpdir(), 'faas-admission-bench-'));
  const http: HttpRow[] = [];
  let starts: StartRow[] = [];
  try {
    const tls = makeCertificate(workDir);
    // The servers' temp dir, where runtimes/start.ts keeps Node's compile cache: warm after the
    // first start, as for a restarted container. measureStarts times cold starts apart.
    const serverTmp = join(workDir, 'tmp');
    mkdirSync(serverTmp);
    const firstCase = cases[0] as BenchCase;
    starts = await measureStarts(
      [...floorTargets, ...chosen].flatMap((t) => runsOf(t, functions)).filter((r) => r.tracing !== 'on'),
      firstCase,
      { tls, workDir, warmStarts: options.warmStarts, log: options.log },
    );
    for (const benchCase of cases) {
      const bodyFile = join(workDir, `${benchCase.name}.json`);
      writeFileSync(bodyFile, benchCase.body);
      // The floors run first and again last: the machine's load may change while the targets
      // run, so each target is compared with the mean of its floor's two runs.
      const measureAll = async (runs: Run[]) => {
        const rows: HttpRow[] = [];
        for (const run of runs)
          rows.push(await measure(run, benchCase, bodyFile, tls, workDir, serverTmp, options));
        return rows;
      };
      const floorRuns = floorTargets.flatMap((t) => runsOf(t, functions));
      const first = await measureAll(floorRuns);
      const measured = await measureAll(chosen.flatMap((t) => runsOf(t, functions)));
      const last = await measureAll(floorRuns);
      for (const row of first) row.floorRun = 'first';
      for (const row of last) row.floorRun = 'last';
      const rows = [...first, ...measured, ...last];
      for (const row of rows) {
        const floorRows = [...first, ...last].filter((f) => f.scheme === row.scheme);
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
      http.push(...rows);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const inProcess: InProcessResult[] = [];
  if (!options.skipInProcess) {
    for (const fn of functions) {
      for (const benchCase of cases) {
        options.log(`in-process ${fn.name} ${benchCase.name}`);
        inProcess.push(measureInProcess(fn, benchCase, Math.min(2, options.durationSeconds / 2)));
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
    machine: machine(),
    cases: cases.map((c) => ({ name: c.name, description: c.description, bytes: Buffer.byteLength(c.body) })),
    starts,
    http,
    inProcess,
    goals: evaluateGoals(http, starts, inProcess),
  };
}

async function measure(
  { target, fn, tracing }: Run,
  benchCase: BenchCase,
  bodyFile: string,
  tls: ReturnType<typeof makeCertificate>,
  workDir: string,
  serverTmp: string,
  options: BenchOptions,
): Promise<HttpRow> {
  const where = [benchCase.name, target.name, fn?.name, tracing === 'n/a' ? '' : `tracing ${tracing}`]
    .filter(Boolean)
    .join(' ');
  options.log(where);
  const port = await freePort();
  const base = target.command({ port, tls, ...(fn ? { fn } : {}) });
  const tracingEnv = tracing === 'n/a' ? {} : (target.tracing?.[tracing] ?? {});
  const command = { ...base, env: { ...base.env, ...tracingEnv, TMPDIR: serverTmp } };
  const server = await startServer(command, benchCase.body, tls.cert);
  try {
    const reply = checkReply(server.firstReply, benchCase, where);
    const pid = server.process.pid as number;
    const loadOptions = { url: command.url, bodyFile, workDir, connections: options.connections };
    if (options.warmupSeconds > 0) await load({ ...loadOptions, durationSeconds: options.warmupSeconds });
    const cpuBefore = cpuTimeMs(pid);
    const measured = await load({ ...loadOptions, durationSeconds: options.durationSeconds });
    const cpuMs = cpuTimeMs(pid) - cpuBefore;
    const row: HttpRow = {
      case: benchCase.name,
      target: target.name,
      scheme: target.scheme,
      function: fn?.name ?? null,
      tracing,
      startMs: Math.round(server.startMs),
      peakRssMb: Math.round(peakRssMb(pid) * 10) / 10,
      reply,
      load: measured,
      ratioToFloor: null,
      cpuUsPerRequest: measured.requests > 0 ? Math.round((cpuMs * 1000) / measured.requests) : Number.NaN,
      cpuRatioToFloor: null,
    };
    if (benchCase.singleConnection) {
      row.singleConnection = await load({
        ...loadOptions,
        connections: 1,
        durationSeconds: Math.max(1, options.durationSeconds / 2),
      });
    }
    return row;
  } finally {
    await stopServer(server.process);
  }
}
