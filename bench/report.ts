// The benchmark's figures as text tables, for the terminal and for docs/bench.md.
import type { HttpRow } from './measure.ts';
import type { BenchResult } from './run.ts';

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `-${'-'.repeat(w)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const fixed = (value: number | null | undefined, digits: number) =>
  value === null || value === undefined ? '' : value.toFixed(digits);

/** `add×2`, `none`, or `DENIED`: what the first reply did, so a denial never passes unnoticed. */
function patchSummary({ reply }: HttpRow): string {
  if (!reply.allowed) return 'DENIED';
  if (reply.patch.length === 0) return 'none';
  const counts = new Map<string, number>();
  for (const op of reply.patch) {
    const kind = op.split(' ')[0] ?? op;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts].map(([kind, n]) => `${kind}×${n}`).join(' ');
}

export function httpTable(result: BenchResult): string {
  return table(
    [
      'case',
      'target',
      'function',
      'tracing',
      'req/s',
      '× floor',
      'CPU µs/req',
      'CPU × floor',
      'p50 ms',
      'p99 ms',
      '1-conn p50 ms',
      'peak RSS MB',
      'patch',
      'errors',
    ],
    result.http.map((row) => [
      row.case,
      row.floorRun ? `${row.target} (${row.floorRun})` : row.target,
      row.function ?? '',
      row.traceExports === undefined ? row.tracing : `${row.tracing} (${row.traceExports} exports)`,
      fixed(row.load.requestsPerSecond, 0),
      fixed(row.ratioToFloor, 2),
      fixed(row.cpuUsPerRequest, 0),
      fixed(row.cpuRatioToFloor, 2),
      fixed(row.load.latencyMs.p50, 2),
      fixed(row.load.latencyMs.p99, 2),
      fixed(row.singleConnection?.latencyMs.p50, 2),
      fixed(row.peakRssMb, 1),
      row.function ? patchSummary(row) : '',
      String(row.load.errors),
    ]),
  );
}

export function startsTable(result: BenchResult): string {
  return table(
    ['target', 'functions served', 'cold ms', 'warm ms'],
    result.starts.map((s) => [
      s.target,
      s.functions.length > 1 ? `all ${s.functions.length}` : (s.functions[0] ?? ''),
      String(s.coldMs),
      String(s.warmMs),
    ]),
  );
}

export function inProcessTable(result: BenchResult): string {
  return table(
    ['function', 'case', 'reviews', 'mean µs', 'p50 µs', 'p99 µs', 'parse µs', 'review µs', 'stringify µs'],
    result.inProcess.map((r) => [
      r.function,
      r.case,
      String(r.reviews),
      fixed(r.perReviewUs.mean, 1),
      fixed(r.perReviewUs.p50, 1),
      fixed(r.perReviewUs.p99, 1),
      fixed(r.phasesUs.parse, 1),
      fixed(r.phasesUs.review, 1),
      fixed(r.phasesUs.serialise, 1),
    ]),
  );
}

export function goalsTable(result: BenchResult): string {
  return table(
    ['goal', 'where', 'measured', 'target', 'result'],
    result.goals.map((g) => [
      g.goal,
      g.where,
      g.measured === null ? 'n/a' : `${g.measured} ${g.unit}`,
      `${g.atLeast ? '≥' : '≤'} ${g.limit} ${g.unit}`,
      g.pass === null ? 'n/a' : g.pass ? 'pass' : 'MISS',
    ]),
  );
}

export function topologyTable(result: BenchResult): string {
  return table(
    ['topology', 'processes', 'RSS MB', 'one node MB', 'p50 ms', 'p99 ms', 'from'],
    result.topology.map((t) => [
      t.topology,
      String(t.processes),
      fixed(t.memoryMb, 0),
      fixed(t.oneNodeMb, 0),
      fixed(t.p50Ms, 2),
      fixed(t.p99Ms, 2),
      t.where,
    ]),
  );
}

export function machineLine({ machine, options }: BenchResult): string {
  return `${machine.nproc} × ${machine.cpu}, Node ${machine.node}, Linux ${machine.kernel}, load average ${machine.loadAverage.start.join(' ')} at the start, ${machine.loadAverage.end.join(' ')} at the end; ${options.connections} connections, ${options.durationSeconds} s per run after ${options.warmupSeconds} s warm-up (${3 * options.warmupSeconds} s for a process's first function)`;
}

export function report(result: BenchResult): string {
  const cases = result.cases.map((c) => `  ${c.name} (${c.bytes} bytes): ${c.description}`).join('\n');
  return [
    `faas-admission bench, commit ${result.commit}`,
    machineLine(result),
    `cases:\n${cases}`,
    '',
    'Over HTTP (× floor: against the mean of the bare Node server of the same scheme, run first and last for each case)',
    httpTable(result),
    '',
    `Start to first answered review (cold: a new container, whose compile cache is empty but for what the image's build step put there; warm: median of ${result.options.warmStarts} restarts)`,
    startsTable(result),
    '',
    'In process (body text to reply text, no HTTP)',
    result.inProcess.length ? inProcessTable(result) : '(skipped)',
    '',
    'Topology (memory under load added up over the processes: RSS as if each pod had a node of its own; one node: PSS, the pages of the one image the pods share held once; latency of one review at 16 connections, Knative review, tracing off)',
    result.topology.length ? topologyTable(result) : '(no deployed or standalone row)',
    '',
    'Targets (issue 16; a miss is reported, not a failure)',
    goalsTable(result),
  ].join('\n');
}
