// One pod per function, measured as it runs: a process per function of one target, all running
// at once as the pods of one image on one node, each loaded in turn as measureRun loads a
// process's first function; then their memory added up two ways. RSS added up counts the
// executable's pages once per process, as if each pod ran on its own node; PSS added up counts
// a page shared by n processes once in all (the page cache holds one image's files once): what
// one node holds for them.
import type { BenchCase } from './cases.ts';
import { APISERVER_HEADERS, commandOf, type MeasureOptions } from './measure.ts';
import { memoryNowMb, type RunningServer, startServer, stopServer } from './server-process.ts';
import type { BenchFunction, Target } from './targets.ts';
import { load } from './wrk.ts';

export interface SideBySide {
  target: string;
  /** The function of each process, in order (a target serving one function runs it n times). */
  functions: string[];
  /** Resident memory added up over the processes, after every one served its load. */
  rssMb: number;
  /** Proportional memory added up: the pages they share counted once. */
  pssMb: number;
}

const round1 = (mb: number) => Math.round(mb * 10) / 10;

/** Runs `functions` on `target`, one process each, all at once; loads each, then reads their memory. */
export async function measureSideBySide(
  target: Target,
  functions: readonly BenchFunction[],
  benchCase: BenchCase,
  bodyFile: string,
  options: MeasureOptions,
): Promise<SideBySide> {
  options.log(`side by side: ${functions.length} processes of ${target.name}`);
  const servers: { fn: BenchFunction; url: string; server: RunningServer }[] = [];
  try {
    for (const fn of functions) {
      const run = { target, functions: [fn], tracing: target.traced ? ('off' as const) : ('n/a' as const) };
      const command = commandOf(run, {
        tls: options.tls,
        otlpEndpoint: options.otlp.endpoint,
        tmp: options.serverTmp,
      });
      const server = await startServer(command, fn.name, benchCase.body, options.tls.cert);
      servers.push({ fn, url: command.url(server.port, fn.name), server });
    }
    for (const { url } of servers) {
      await load({
        url,
        bodyFile,
        headers: APISERVER_HEADERS,
        workDir: options.workDir,
        connections: options.connections,
        durationSeconds: options.warmupSeconds * 3 + options.durationSeconds,
      });
    }
    const memory = servers.map(({ server }) => memoryNowMb(server.process.pid as number));
    return {
      target: target.name,
      functions: servers.map(({ fn }) => fn.name),
      rssMb: round1(memory.reduce((sum, m) => sum + m.rssMb, 0)),
      pssMb: round1(memory.reduce((sum, m) => sum + m.pssMb, 0)),
    };
  } finally {
    await Promise.all(servers.map(({ server }) => stopServer(server.process)));
  }
}
