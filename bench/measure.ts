// One server process under load: started fresh, its first reply checked, then for each function
// it serves a warm-up and a measured run with wrk, its CPU time and peak RSS read from /proc.
import type { BenchCase } from './cases.ts';
import type { OtlpSink } from './otlp-sink.ts';
import {
  cpuTimeMs,
  peakRssMb,
  post,
  type Reply,
  type ServerCommand,
  startServer,
  stopServer,
} from './server-process.ts';
import type { BenchFunction, Scheme, Target, Tracing } from './targets.ts';
import type { BenchTls } from './tls.ts';
import { type LoadResult, load } from './wrk.ts';

export type { Tracing } from './targets.ts';

/** How the apiserver calls: its timeout in the query, a sampled parent trace in the headers. */
export const APISERVER_QUERY = '?timeout=10s';
export const APISERVER_HEADERS = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' };

/** One server process to measure: a target, the functions it serves, tracing on or off. */
export interface Run {
  target: Target;
  functions: readonly BenchFunction[];
  tracing: Tracing;
}

export interface HttpRow {
  case: string;
  target: string;
  scheme: Scheme;
  function: string | null;
  tracing: Tracing;
  /** This process's start to first answer (compile cache warm; `starts` has the controlled figures). */
  startMs: number;
  /**
   * The kernel's high-water mark of resident memory over the process's life, warm-ups and loads
   * included (one figure for every function of a process that serves them all).
   */
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
  /** Tracing on: span exports the collector received during the measured load. */
  traceExports?: number;
}

export interface MeasureOptions {
  durationSeconds: number;
  warmupSeconds: number;
  connections: number;
  tls: BenchTls;
  workDir: string;
  /** TMPDIR of the servers: where npm start keeps its compile cache. */
  serverTmp: string;
  otlp: OtlpSink;
  log: (line: string) => void;
}

/**
 * The processes to measure for `target`: tracing off, and on too when `withTracing` (the bench
 * does it on the case its goals are about), where tracing can be switched.
 */
export function runsOf(target: Target, functions: readonly BenchFunction[], withTracing = true): Run[] {
  const modes: Tracing[] = !target.traced ? ['n/a'] : withTracing ? ['off', 'on'] : ['off'];
  if (target.serves === 'nothing') return [{ target, functions: [], tracing: 'n/a' }];
  if (target.serves === 'every-function') return modes.map((tracing) => ({ target, functions, tracing }));
  const served = target.functions ? functions.filter((fn) => target.functions?.includes(fn.name)) : functions;
  return served.flatMap((fn) => modes.map((tracing) => ({ target, functions: [fn], tracing })));
}

/** The command of a run, with its temp dir. */
export function commandOf(
  { target, functions, tracing }: Run,
  context: { tls: BenchTls; otlpEndpoint: string; tmp: string },
): ServerCommand {
  const base = target.command({ ...context, functions, tracing });
  return {
    ...base,
    env: { ...base.env, TMPDIR: context.tmp },
    url: (port, fn) => `${base.url(port, fn)}${APISERVER_QUERY}`,
  };
}

/** Reads a reply and refuses to measure a server that answers something else. */
export function checkReply(reply: Reply, benchCase: BenchCase, where: string): HttpRow['reply'] {
  // biome-ignore lint/suspicious/noExplicitAny: a reply from the wire, checked field by field
  let review: any;
  try {
    review = JSON.parse(reply.body);
  } catch {
    throw new Error(`${where}: the reply is not JSON: ${reply.body.slice(0, 200)}`);
  }
  const uid = benchCase.review.request.uid;
  if (reply.status !== 200 || review?.kind !== 'AdmissionReview' || review.response?.uid !== uid) {
    throw new Error(`${where}: not an AdmissionReview for uid ${uid}: ${reply.body.slice(0, 300)}`);
  }
  const response = review.response;
  const patch: { op: string; path: string }[] = response.patch
    ? JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8'))
    : [];
  return { allowed: response.allowed === true, patch: patch.map((op) => `${op.op} ${op.path}`) };
}

export async function measureRun(
  run: Run,
  benchCase: BenchCase,
  bodyFile: string,
  options: MeasureOptions,
): Promise<HttpRow[]> {
  const { target, tracing } = run;
  const command = commandOf(run, {
    tls: options.tls,
    otlpEndpoint: options.otlp.endpoint,
    tmp: options.serverTmp,
  });
  const served = run.functions.length > 0 ? run.functions : [undefined];
  const server = await startServer(command, served[0]?.name, benchCase.body, options.tls.cert);
  const pid = server.process.pid as number;
  const rows: HttpRow[] = [];
  try {
    for (const fn of served) {
      const where = [benchCase.name, target.name, fn?.name, tracing === 'n/a' ? '' : `tracing ${tracing}`]
        .filter(Boolean)
        .join(' ');
      options.log(where);
      const url = command.url(server.port, fn?.name);
      const first = rows.length === 0 ? server.firstReply : await post(url, benchCase.body, options.tls.cert);
      const reply = checkReply(first, benchCase, where);
      const loadOptions = {
        url,
        bodyFile,
        headers: APISERVER_HEADERS,
        workDir: options.workDir,
        connections: options.connections,
      };
      // A fresh process compiles its hot paths during its first seconds under load: the first
      // function it serves is warmed three times as long.
      const warmup = options.warmupSeconds * (rows.length === 0 ? 3 : 1);
      if (warmup > 0) await load({ ...loadOptions, durationSeconds: warmup });
      const cpuBefore = cpuTimeMs(pid);
      const exportsBefore = options.otlp.traceExports();
      const measured = await load({ ...loadOptions, durationSeconds: options.durationSeconds });
      const cpuMs = cpuTimeMs(pid) - cpuBefore;
      const traceExports = options.otlp.traceExports() - exportsBefore;
      const row: HttpRow = {
        case: benchCase.name,
        target: target.name,
        scheme: target.scheme,
        function: fn?.name ?? null,
        tracing,
        startMs: Math.round(server.startMs),
        peakRssMb: Number.NaN,
        reply,
        load: measured,
        ratioToFloor: null,
        cpuUsPerRequest: measured.requests > 0 ? Math.round((cpuMs * 1000) / measured.requests) : Number.NaN,
        cpuRatioToFloor: null,
        ...(tracing === 'on' ? { traceExports } : {}),
      };
      if (benchCase.singleConnection) {
        row.singleConnection = await load({
          ...loadOptions,
          connections: 1,
          durationSeconds: 1,
        });
      }
      rows.push(row);
    }
    const peak = Math.round(peakRssMb(pid) * 10) / 10;
    for (const row of rows) row.peakRssMb = peak;
    return rows;
  } finally {
    await stopServer(server.process);
  }
}
