// Time from process start to the first answered review, cold and warm. The entries keep Node's
// compile cache in the temp dir: a new container starts cold (every module compiled but what the
// image's build step compiled into its cache, the setup of the image target), a restarted one
// warm. Each server gets a temp dir of its own here, started once cold and then `warmStarts`
// times warm (the median is kept: starts are noisy on a busy machine).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchCase } from './cases.ts';
import { commandOf, type Run } from './measure.ts';
import { startServer, stopServer } from './server-process.ts';
import type { BenchTls } from './tls.ts';

export interface StartRow {
  target: string;
  /** The functions the process serves (none for a floor). */
  functions: string[];
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
    otlpEndpoint,
    log,
  }: {
    tls: BenchTls;
    workDir: string;
    warmStarts: number;
    otlpEndpoint: string;
    log: (line: string) => void;
  },
): Promise<StartRow[]> {
  const rows: StartRow[] = [];
  for (const [i, run] of runs.entries()) {
    const functions = run.functions.map((fn) => fn.name);
    log(`start ${run.target.name} ${functions.join(', ')}`);
    const tmp = join(workDir, `start-${i}`);
    mkdirSync(tmp);
    const times: number[] = [];
    for (let n = 0; n <= warmStarts; n++) {
      const command = commandOf(run, { tls, otlpEndpoint, tmp });
      const server = await startServer(command, functions[0], benchCase.body, tls.cert);
      await stopServer(server.process);
      times.push(Math.round(server.startMs));
    }
    const [cold = Number.NaN, ...warm] = times;
    warm.sort((a, b) => a - b);
    rows.push({
      target: run.target.name,
      functions,
      coldMs: cold,
      warmMs: warm[Math.floor(warm.length / 2)] ?? Number.NaN,
    });
  }
  return rows;
}
