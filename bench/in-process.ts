// The core in-process, no HTTP: a body as text in, the reply as text out, timed per phase.
// This is the work every runtime adds on top of the floor, and the figure a profile explains.
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { functionHandler } from '../shared/handler.ts';
import { answerBody } from '../shared/http-answer.ts';
import type { BenchCase } from './cases.ts';
import type { BenchFunction } from './targets.ts';

export interface InProcessResult {
  function: string;
  case: string;
  reviews: number;
  /** Whole review, body text to reply text, in microseconds. */
  perReviewUs: { mean: number; p50: number; p99: number };
  /** Mean microseconds in JSON.parse, in answerBody (envelope, mutation, diff, base64), in JSON.stringify. */
  phasesUs: { parse: number; review: number; serialise: number };
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] as number;
}

const round = (us: number) => Math.round(us * 10) / 10;

/** Runs the review for `seconds` (a quarter of it as warm-up, not counted). */
export function measureInProcess(fn: BenchFunction, benchCase: BenchCase, seconds: number): InProcessResult {
  const mutation = functionNamed(fn.name);
  const loaded = functionHandler({ mutation, config: loadConfig(mutation, fn.env) });
  const totals: number[] = [];
  const phases = { parse: 0, review: 0, serialise: 0 };
  const start = performance.now();
  const warmUntil = start + seconds * 250;
  const stopAt = start + seconds * 1000;
  for (let now = start; now < stopAt || totals.length < 10; ) {
    const t0 = performance.now();
    const parsed = JSON.parse(benchCase.body);
    const t1 = performance.now();
    const answer = answerBody(loaded, parsed);
    const t2 = performance.now();
    JSON.stringify(answer.body);
    const t3 = performance.now();
    if (answer.status !== 200) throw new Error(`${fn.name} on ${benchCase.name}: HTTP ${answer.status}`);
    now = t3;
    if (t0 < warmUntil) continue;
    totals.push((t3 - t0) * 1000);
    phases.parse += (t1 - t0) * 1000;
    phases.review += (t2 - t1) * 1000;
    phases.serialise += (t3 - t2) * 1000;
  }
  const n = totals.length;
  const sorted = totals.sort((a, b) => a - b);
  return {
    function: fn.name,
    case: benchCase.name,
    reviews: n,
    perReviewUs: {
      mean: round(sorted.reduce((a, b) => a + b, 0) / n),
      p50: round(percentile(sorted, 50)),
      p99: round(percentile(sorted, 99)),
    },
    phasesUs: {
      parse: round(phases.parse / n),
      review: round(phases.review / n),
      serialise: round(phases.serialise / n),
    },
  };
}
