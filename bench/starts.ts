// Time from process start to the first answered review, cold and warm. runtimes/start.ts keeps
// Node's compile cache in the temp dir: a new container starts cold (every module compiled, the
// TypeScript stripped), a restarted one warm. Each server gets a temp dir of its own here, started
// once cold and then `warmStarts` times warm (the median is kept: starts are noisy on a busy machine).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCase } from './cases.ts';
import type { Run } from './run.ts';
import { freePort, startServer, stopServer } from './server-process.ts';
import type { BenchTls } from './tls.ts';

export interface StartRow {
  target: string;
  function: string | null;
  coldMs: number;
  /** Median of the warm starts. */
  warmMs: number;
}

export async function measureStarts(
  runs: readonly Run[],
  benchCase: BenchCase,
  {
    tls,
    workDir,
    warmStarts,
    log,
  }: { tls: BenchTls; workDir: string; warmStarts: number; log: (line: string) => void },
): Promise<StartRow[]> {
  const rows: StartRow[] = [];
  for (const [i, { target, fn }] of runs.entries()) {
    log(`start ${target.name} ${fn?.name ?? ''}`);
    const tmp = join(workDir, `start-${i}`);
    mkdirSync(tmp);
    const times: number[] = [];
    for (let n = 0; n <= warmStarts; n++) {
      const base = target.command({ port: await freePort(), tls, ...(fn ? { fn } : {}) });
      const server = await startServer(
        { ...base, env: { ...base.env, TMPDIR: tmp } },
        benchCase.body,
        tls.cert,
      );
      await stopServer(server.process);
      times.push(Math.round(server.startMs));
    }
    const [cold = Number.NaN, ...warm] = times;
    warm.sort((a, b) => a - b);
    rows.push({
      target: target.name,
      function: fn?.name ?? null,
      coldMs: cold,
      warmMs: warm[Math.floor(warm.length / 2)] ?? Number.NaN,
    });
  }
  return rows;
}
