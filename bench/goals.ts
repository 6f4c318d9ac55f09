// The performance targets of issue 16 (the deployed path as lean as a Go webhook), checked
// against one run's figures, and the topology comparison. Printed next to the measurements; a
// miss is reported, never an exit code: performance is not a test.
import type { InProcessResult } from './in-process.ts';
import type { HttpRow } from './measure.ts';
import type { SideBySide } from './side-by-side.ts';
import type { StartRow } from './starts.ts';

export interface GoalResult {
  goal: string;
  /** Which rows the figure comes from. */
  where: string;
  measured: number | null;
  unit: string;
  limit: number;
  /** `≤` (the default) or `≥` the limit. */
  atLeast?: true;
  /** `null` when this run has no row to judge by. */
  pass: boolean | null;
}

const FUNCTION = 'volume-extension';
/** The case the goals and the topology are judged on: the Knative review. */
export const CASE = 'knative';
const LARGE_CASE = 'knative-1mib';

/** What a deployed instance runs: the image's command (deploy/, OpenFaaS) and npm start (func deploy). */
export const DEPLOYED_TARGETS: readonly string[] = ['image', 'npm-start'];
/** The same two commands as they were before the bundle (on request): judged alike, to compare. */
export const BEFORE_TARGETS: readonly string[] = ['before-image', 'before-npm-start'];

export const LIMITS = {
  warmStartMs: 150,
  coldStartMs: 250,
  peakRssMb: 80,
  /** Our CPU per review over the Go webhook's, tracing off. */
  cpuVsGo: 0.5,
  /** CPU per review with every review's span exported, over tracing off. */
  tracingOn: 1.3,
  largeReviewMs: 20,
} as const;

const round = (value: number, digits = 3) => Math.round(value * 10 ** digits) / 10 ** digits;

function goal(
  goal: string,
  where: string,
  measured: number | undefined | null,
  unit: string,
  limit: number,
): GoalResult {
  const value = measured === undefined || measured === null || !Number.isFinite(measured) ? null : measured;
  return { goal, where, measured: value, unit, limit, pass: value === null ? null : value <= limit };
}

export function evaluateGoals(
  rows: readonly HttpRow[],
  starts: readonly StartRow[],
  inProcess: readonly InProcessResult[],
): GoalResult[] {
  const goals: GoalResult[] = [];
  const present = new Set(rows.map((r) => r.target));
  const go = rows.find((r) => r.target === 'go-webhook' && r.case === CASE && r.function === FUNCTION);
  for (const target of [...DEPLOYED_TARGETS, ...BEFORE_TARGETS].filter((t) => present.has(t))) {
    const row = (benchCase: string, tracing: 'on' | 'off') =>
      rows.find(
        (r) =>
          r.target === target && r.case === benchCase && r.function === FUNCTION && r.tracing === tracing,
      );
    const off = row(CASE, 'off');
    const on = row(CASE, 'on');
    const mineStarts = starts.filter((s) => s.target === target);
    const slowest = (pick: (s: StartRow) => number) =>
      mineStarts.length ? Math.max(...mineStarts.map(pick)) : undefined;
    const offRss = rows
      .filter((r) => r.target === target && r.case === CASE && r.tracing !== 'on')
      .map((r) => r.peakRssMb);
    const large = row(LARGE_CASE, 'off');
    // The bare Node server of the same scheme under the same load: what Node itself holds.
    const scheme = off?.scheme;
    const floorRows = rows.filter((r) => r.floorRun && r.case === CASE && r.scheme === scheme);
    const floorRss = floorRows.map((r) => r.peakRssMb);
    const rssWhere = floorRss.length ? `${target} (bare Node floor: ${Math.max(...floorRss)} MB)` : target;
    // Where even the bare server's CPU per review is over the limit, the limit is Node's, not the code's.
    const floorCpu = floorRows.length
      ? floorRows.reduce((sum, r) => sum + r.cpuUsPerRequest, 0) / floorRows.length
      : undefined;
    const cpuWhere =
      go && floorCpu !== undefined && go.cpuUsPerRequest > 0
        ? `${target} vs go-webhook (bare Node floor: ${round(floorCpu / go.cpuUsPerRequest)} ×)`
        : `${target} vs go-webhook`;
    goals.push(
      goal(
        'start to first answered review, warm (restart), slowest function',
        target,
        slowest((s) => s.warmMs),
        'ms',
        LIMITS.warmStartMs,
      ),
      goal(
        'start to first answered review, cold (new container), slowest function',
        target,
        slowest((s) => s.coldMs),
        'ms',
        LIMITS.coldStartMs,
      ),
      goal(
        `peak RSS under load, one function (${CASE}, tracing off, largest)`,
        rssWhere,
        offRss.length ? Math.max(...offRss) : undefined,
        'MB',
        LIMITS.peakRssMb,
      ),
      goal(
        `${FUNCTION} CPU per review over the Go webhook's (${CASE}, tracing off)`,
        cpuWhere,
        off && go && go.cpuUsPerRequest > 0 ? round(off.cpuUsPerRequest / go.cpuUsPerRequest) : undefined,
        '×',
        LIMITS.cpuVsGo,
      ),
      goal(
        `${FUNCTION} CPU per review, every span exported over tracing off (${CASE})`,
        target,
        on && off && off.cpuUsPerRequest > 0 ? round(on.cpuUsPerRequest / off.cpuUsPerRequest) : undefined,
        '×',
        LIMITS.tracingOn,
      ),
      goal(
        `${FUNCTION} time per 1 MiB review (p50, one at a time)`,
        target,
        // wrk gives p50 0 when nothing was answered: no figure then, not a pass.
        large?.singleConnection?.requests ? large.singleConnection.latencyMs.p50 : undefined,
        'ms',
        LIMITS.largeReviewMs,
      ),
    );
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
  goals.push(
    goal(
      `${FUNCTION} 1 MiB review in process (mean, parse to reply text)`,
      'in-process',
      inProcessLarge ? Math.round(inProcessLarge.perReviewUs.mean) / 1000 : undefined,
      'ms',
      LIMITS.largeReviewMs,
    ),
  );
  return goals;
}

export interface TopologyRow {
  topology: string;
  /** Where the figures come from. */
  where: string;
  processes: number;
  /** Resident memory added up over the processes: as if each pod ran on its own node. */
  memoryMb: number;
  /**
   * What one node holds for them all: proportional memory added up, the pages the processes
   * share (one image's executable) counted once; null where not measured side by side.
   */
  oneNodeMb: number | null;
  /** Latency of one review at 16 connections, on the Knative review, tracing off. */
  p50Ms: number | null;
  p99Ms: number | null;
}

/**
 * Every function deployed one per pod (the deployed path: measured all at once when the bench
 * ran them side by side, else its largest peak RSS times the number of functions) against one
 * process serving them all (the standalone server), with the latency each gives one review.
 */
export function topology(
  rows: readonly HttpRow[],
  functionCount: number,
  sideBySide: readonly SideBySide[] = [],
): TopologyRow[] {
  const result: TopologyRow[] = [];
  const knative = rows.filter((r) => r.case === CASE && r.tracing !== 'on' && r.function !== null);
  const pick = (target: string) => knative.filter((r) => r.target === target);
  const fastest = (list: HttpRow[]) => list.find((r) => r.function === FUNCTION) ?? list[0];
  const latency = (row: HttpRow | undefined) => ({
    p50Ms: row?.load.latencyMs.p50 ?? null,
    p99Ms: row?.load.latencyMs.p99 ?? null,
  });
  const onePodEach = (topologyName: string, target: string, list: HttpRow[]) => {
    const measured = sideBySide.find((s) => s.target === target);
    if (measured) {
      return {
        topology: topologyName,
        where: `${target}: ${measured.functions.length} processes at once, each loaded in turn`,
        processes: measured.functions.length,
        memoryMb: measured.rssMb,
        oneNodeMb: measured.pssMb,
        ...latency(fastest(list)),
      };
    }
    const rss = Math.max(...list.map((r) => r.peakRssMb));
    return {
      topology: topologyName,
      where: `${target}: ${round(rss, 1)} MB × ${functionCount} (largest peak of ${list.length} measured)`,
      processes: functionCount,
      memoryMb: round(rss * functionCount, 1),
      oneNodeMb: null,
      ...latency(fastest(list)),
    };
  };
  const deployed = DEPLOYED_TARGETS.map(pick).find((list) => list.length > 0);
  if (deployed?.length && deployed[0]) {
    result.push(onePodEach(`${functionCount} functions, one pod each`, deployed[0].target, deployed));
  }
  const all = pick('standalone');
  if (all.length) {
    const memoryMb = Math.max(...all.map((r) => r.peakRssMb));
    result.push({
      topology: `${functionCount} functions, one pod serving all`,
      where: 'standalone (HTTPS in the process; every function loaded; its peak RSS)',
      processes: 1,
      memoryMb,
      oneNodeMb: memoryMb,
      ...latency(fastest(all)),
    });
  }
  const go = pick('go-webhook');
  if (go.length) {
    result.push(onePodEach(`${functionCount} Go webhooks, one pod each (for comparison)`, 'go-webhook', go));
  }
  return result;
}
