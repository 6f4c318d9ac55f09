// The performance goals of issue 5, checked against one run's figures. Printed next to the
// measurements; a miss is reported, never an exit code: performance is not a test.
import type { InProcessResult } from './in-process.ts';
import type { HttpRow } from './measure.ts';
import type { StartRow } from './starts.ts';
import { BASELINE_TARGETS } from './targets.ts';

export interface GoalResult {
  goal: string;
  /** Which rows the figure comes from. */
  where: string;
  measured: number | null;
  unit: string;
  limit: number;
  /** `null` when this run has no row to judge by. */
  pass: boolean | null;
}

const FUNCTION = 'volume-extension';
const CASE = 'knative';
const LARGE_CASE = 'knative-1mib';

/**
 * The runtimes a function is deployed with; the `core` target stands in when none is
 * benchmarked (it is the same core without a runtime around it). The Go webhook is only
 * compared with.
 */
function judgedTargets(rows: readonly HttpRow[]): string[] {
  const present = [...new Set(rows.filter((r) => r.function !== null).map((r) => r.target))];
  const deployed = present.filter((t) => !BASELINE_TARGETS.includes(t));
  return deployed.length > 0 ? deployed : present.filter((t) => t === 'core');
}

/** Ours against the Go webhook on the same review, tracing off (it has metrics, no spans). */
function againstGo(rows: readonly HttpRow[], target: string, mine: HttpRow | undefined): GoalResult[] {
  const go = rows.find((r) => r.target === 'go-webhook' && r.case === CASE && r.function === FUNCTION);
  const where = `${target} tracing off vs go-webhook`;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? null : Math.round((a / b) * 1000) / 1000;
  const throughput = ratio(mine?.load.requestsPerSecond, go?.load.requestsPerSecond);
  const cpu = ratio(go?.cpuUsPerRequest, mine?.cpuUsPerRequest);
  return [
    {
      goal: `${FUNCTION} req/s vs the hand-written Go webhook (${CASE})`,
      where,
      measured: throughput,
      unit: '×',
      limit: 1,
      pass: throughput === null ? null : throughput >= 1,
    },
    {
      goal: `${FUNCTION} CPU per request, the Go webhook's over ours (${CASE})`,
      where,
      measured: cpu,
      unit: '×',
      limit: 1,
      pass: cpu === null ? null : cpu >= 1,
    },
  ];
}

/** Tracing on where it was measured: the goals hold with tracing on. */
function preferTracingOn(rows: HttpRow[]): HttpRow[] {
  const on = rows.filter((r) => r.tracing === 'on');
  return on.length > 0 ? on : rows;
}

function describe(row: HttpRow | undefined, target: string): string {
  const tracing = row?.tracing === 'n/a' ? 'tracing n/a' : `tracing ${row?.tracing ?? '?'}`;
  return `${target} (${row?.scheme ?? '?'}), ${tracing}`;
}

export function evaluateGoals(
  rows: readonly HttpRow[],
  starts: readonly StartRow[],
  inProcess: readonly InProcessResult[],
): GoalResult[] {
  const goals: GoalResult[] = [];
  const atMost = (measured: number | undefined, limit: number) =>
    measured === undefined ? null : measured <= limit;
  for (const target of judgedTargets(rows)) {
    const rowsOf = (benchCase: string) =>
      preferTracingOn(rows.filter((r) => r.target === target && r.case === benchCase));
    const mine = rowsOf(CASE);
    const main = mine.find((r) => r.function === FUNCTION);
    const large = rowsOf(LARGE_CASE).find((r) => r.function === FUNCTION);
    const where = describe(main ?? mine[0], target);
    const ratio = main?.ratioToFloor ?? undefined;
    goals.push(
      {
        goal: `${FUNCTION} req/s vs floor of the same scheme (${CASE}, 16 connections)`,
        where,
        measured: ratio ?? null,
        unit: '×',
        limit: 0.8,
        pass: ratio === undefined ? null : ratio >= 0.8,
      },
      {
        goal: `${FUNCTION} CPU per request vs floor (${CASE}; steadier on a busy machine)`,
        where,
        measured: main?.cpuRatioToFloor ?? null,
        unit: '×',
        limit: 0.8,
        pass: main?.cpuRatioToFloor == null ? null : main.cpuRatioToFloor >= 0.8,
      },
      {
        goal: `${FUNCTION} p99 (${CASE}, 16 connections)`,
        where,
        measured: main?.load.latencyMs.p99 ?? null,
        unit: 'ms',
        limit: 4,
        pass: atMost(main?.load.latencyMs.p99, 4),
      },
      {
        goal: `${FUNCTION} time per 1 MiB review (p50, one at a time)`,
        where: describe(large, target),
        measured: large?.singleConnection?.latencyMs.p50 ?? null,
        unit: 'ms',
        limit: 20,
        pass: atMost(large?.singleConnection?.latencyMs.p50, 20),
      },
    );
    const tracingOff = rows.find(
      (r) => r.target === target && r.case === CASE && r.function === FUNCTION && r.tracing !== 'on',
    );
    if (target !== 'core') goals.push(...againstGo(rows, target, tracingOff));
    const rss = mine.map((r) => r.peakRssMb);
    goals.push({
      goal: `peak RSS under load (${CASE}, largest of the functions)`,
      where,
      measured: rss.length ? Math.max(...rss) : null,
      unit: 'MB',
      limit: 96,
      pass: rss.length ? Math.max(...rss) <= 96 : null,
    });
    const mineStarts = starts.filter((s) => s.target === target);
    for (const kind of ['warm', 'cold'] as const) {
      const times = mineStarts.map((s) => (kind === 'warm' ? s.warmMs : s.coldMs));
      const slowest = times.length ? Math.max(...times) : null;
      goals.push({
        goal: `start to first answered review, ${kind === 'warm' ? 'warm compile cache (restart)' : 'cold (new container)'}, slowest function`,
        where: `${target}`,
        measured: slowest,
        unit: 'ms',
        limit: 300,
        pass: slowest === null ? null : slowest <= 300,
      });
    }
  }
  const patch = rows.find((r) => r.function === FUNCTION && r.case === CASE)?.reply.patch;
  goals.push({
    goal: `${FUNCTION} patch on ${CASE}: only add operations`,
    where: 'first reply',
    measured: patch ? patch.filter((op) => !op.startsWith('add ')).length : null,
    unit: 'non-add ops',
    limit: 0,
    pass: patch ? patch.length > 0 && patch.every((op) => op.startsWith('add ')) : null,
  });
  const inProcessLarge = inProcess.find((r) => r.function === FUNCTION && r.case === LARGE_CASE);
  goals.push({
    goal: `${FUNCTION} 1 MiB review in process (mean, parse to reply text)`,
    where: 'in-process',
    measured: inProcessLarge ? Math.round(inProcessLarge.perReviewUs.mean) / 1000 : null,
    unit: 'ms',
    limit: 20,
    pass: inProcessLarge ? inProcessLarge.perReviewUs.mean <= 20_000 : null,
  });
  return goals;
}
