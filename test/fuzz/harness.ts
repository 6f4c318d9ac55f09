// Runs generated bodies through every function, in-process (handleReview) and over HTTP,
// and checks each answer: no throw, no hang, either a valid AdmissionReview (uid echoed, no
// internal error, accepted by the apiserver's judgement, a second run on the patched object
// changes nothing) or a 4xx JSON error with a message.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { functions } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { functionHandler, type LoadedMutation } from '../../shared/handler.ts';
import { answerBody, type HttpAnswer } from '../../shared/http-answer.ts';
import { decodePatch } from '../../shared/response.ts';
import { apiserverVerdicts, type Judgement } from '../support/apiserver.ts';
import { ENVIRONMENTS } from '../support/environments.ts';
import { fuzzBody } from './arbitraries.ts';
import { startFuzzServers } from './server.ts';

// biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field
type Json = any;

export interface Target {
  name: string;
  /** Index into ENVIRONMENTS. */
  variant: number;
  loaded: LoadedMutation;
  validating: boolean;
}

/** Every registered function under each environment (functions added later too). */
function targets(): Target[][] {
  return [...functions.values()].map((mutation) =>
    ENVIRONMENTS.map((env, variant) => ({
      name: mutation.name,
      variant,
      loaded: { mutation, config: loadConfig(mutation, env) },
      validating: mutation.kind === 'validating',
    })),
  );
}

export interface FuzzOptions {
  /** Generated bodies; each goes to every function. */
  count: number;
  seed: number;
  /** Every n-th body goes over HTTP instead of in-process (0: never). */
  httpEvery: number;
  batchSize?: number;
  /** Where failing bodies are written for replay with `npm run invoke`. */
  failureDir?: string;
  progress?: (done: number) => void;
}

export interface Failure {
  function: string;
  reason: string;
  file: string;
}

export interface FuzzReport {
  seed: number;
  bodies: number;
  answers: number;
  overHttp: number;
  statuses: Record<string, number>;
  /** Per function: AdmissionReviews allowed (with a patch or not) and denied, and 4xx answers. */
  byFunction: Record<string, { allowed: number; patched: number; denied: number; refused: number }>;
  judged: number;
  slowestMs: number;
  durationMs: number;
  failures: Failure[];
}

interface Pending {
  target: Target;
  body: string;
  judgement: Judgement;
}

export async function fuzz(options: FuzzOptions): Promise<FuzzReport> {
  const { count, seed, httpEvery, batchSize = 1_000 } = options;
  const failureDir = options.failureDir ?? join(tmpdir(), `faas-admission-fuzz-${seed}`);
  const started = performance.now();
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).join();
  const all = targets();
  const report: FuzzReport = {
    seed,
    bodies: 0,
    answers: 0,
    overHttp: 0,
    statuses: {},
    byFunction: Object.fromEntries(
      all.map(([t]) => [t?.name, { allowed: 0, patched: 0, denied: 0, refused: 0 }]),
    ),
    judged: 0,
    slowestMs: 0,
    durationMs: 0,
    failures: [],
  };
  const fail = (target: Target, body: string, reason: string) => {
    if (report.failures.length >= 50) return;
    mkdirSync(failureDir, { recursive: true });
    const file = join(failureDir, `${report.failures.length}-${target.name}.json`);
    writeFileSync(file, body);
    report.failures.push({
      function: `${target.name}#${target.variant}`,
      reason: reason.slice(0, 500),
      file,
    });
  };

  /** Checks one answer; returns what the apiserver must judge, if anything. */
  const check = (
    target: Target,
    body: string,
    answer: HttpAnswer,
    parsed: () => Json,
  ): Pending | undefined => {
    report.answers++;
    report.statuses[answer.status] = (report.statuses[answer.status] ?? 0) + 1;
    const reply: Json = answer.body;
    const counts = report.byFunction[target.name] as FuzzReport['byFunction'][string];
    if (answer.status !== 200) {
      counts.refused++;
      if (answer.status < 400 || answer.status > 499) fail(target, body, `status ${answer.status}`);
      else if (reply?.code !== answer.status || typeof reply.message !== 'string' || !reply.message)
        fail(target, body, `a ${answer.status} without {code, message}: ${JSON.stringify(reply)}`);
      return undefined;
    }
    const sent = parsed();
    const response = reply?.response;
    if (reply?.apiVersion !== sent.apiVersion || response?.uid !== sent.request.uid) {
      fail(target, body, `reply does not echo apiVersion and uid: ${JSON.stringify(reply).slice(0, 300)}`);
      return undefined;
    }
    const said = [response.status?.message ?? '', ...(response.warnings ?? [])].join(' ');
    if (said.includes('internal error')) fail(target, body, `the function threw: ${said}`);
    // A user-keyed map read through the prototype (`constructor`, `toString`) shows Object's own.
    if (said.includes('[native code]')) fail(target, body, `a message shows a built-in property: ${said}`);
    if (response.allowed) counts.allowed++;
    else counts.denied++;
    if (response.patch) counts.patched++;
    // Without a patch the apiserver's verdict does not look at the object (it only echoes
    // it back): leave it out so the judge does not copy hundreds of megabytes for nothing.
    const request = response.patch
      ? sent
      : { ...sent, request: { ...sent.request, object: null, oldObject: null } };
    return { target, body, judgement: { request, reply, validating: target.validating } };
  };

  const server = httpEvery > 0 ? await startFuzzServers(ENVIRONMENTS) : undefined;
  let judging: Promise<void> = Promise.resolve();
  try {
    for (let offset = 0, batch = 0; offset < count; offset += batchSize, batch++) {
      const size = Math.min(batchSize, count - offset);
      const bodies = fc.sample(fuzzBody, { numRuns: size, seed: seed + batch });
      const pending: Pending[] = [];
      const overHttp: Promise<void>[] = [];
      for (const [i, body] of bodies.entries()) {
        const index = offset + i;
        // Parsed once for all functions: the request the apiserver judges against.
        let sent: Json;
        const parsed = () => {
          sent ??= JSON.parse(body);
          return sent;
        };
        // In-process, the functions share one parse of the body; text that is not JSON, or is
        // a JSON string (which handleReview would take for raw text), goes as the text itself.
        let shared: { value: unknown } | undefined;
        const input = () => {
          if (!shared) {
            try {
              const value: unknown = JSON.parse(body);
              shared = { value: typeof value === 'string' ? body : value };
            } catch {
              shared = { value: body };
            }
          }
          return shared.value;
        };
        for (const variants of all) {
          const target = variants[index % variants.length] as Target;
          if (server && index % httpEvery === 0) {
            overHttp.push(
              server.send(target, body).then(
                (answer) => void push(pending, check(target, body, answer, parsed)),
                (error: Error) => fail(target, body, `over HTTP: ${error.message}`),
              ),
            );
            continue;
          }
          const t0 = performance.now();
          let answer: HttpAnswer;
          try {
            answer = answerBody(functionHandler(target.loaded), input());
            JSON.stringify(answer.body);
          } catch (error) {
            fail(target, body, `threw: ${(error as Error).stack ?? error}`);
            continue;
          } finally {
            report.slowestMs = Math.max(report.slowestMs, performance.now() - t0);
          }
          push(pending, check(target, body, answer, parsed));
        }
        if (server && index % httpEvery === 0) report.overHttp++;
        if (overHttp.length >= 64) await Promise.all(overHttp.splice(0));
      }
      await Promise.all(overHttp);
      report.bodies += size;
      // Judge this batch while the next one is generated; one batch in flight at a time.
      await judging;
      judging = judge(pending);
      options.progress?.(report.bodies);
    }
    await judging;
  } finally {
    for (const message of (await server?.close()) ?? []) {
      report.failures.push({ function: '*', reason: `the server logged an error: ${message}`, file: '' });
    }
  }

  async function judge(pending: Pending[]): Promise<void> {
    const verdicts = await apiserverVerdicts(pending.map((p) => p.judgement));
    report.judged += verdicts.length;
    for (const [i, verdict] of verdicts.entries()) {
      const { target, body, judgement } = pending[i] as Pending;
      if (!verdict.accepted) {
        fail(target, body, `the apiserver refuses the reply: ${verdict.error}`);
        continue;
      }
      if (
        verdict.allowed &&
        !target.validating &&
        decodePatch((judgement.reply as Json).response).length > 0
      ) {
        reinvoke(target, body, judgement.request as Json, verdict.object);
      }
    }
  }

  /** Reinvocation: the function run on its own output must change nothing. */
  function reinvoke(target: Target, body: string, sent: Json, patched: unknown): void {
    const again = { ...sent, request: { ...sent.request, object: patched } };
    const answer = answerBody(functionHandler(target.loaded), again);
    const response = (answer.body as Json).response;
    if (!response?.allowed || response.patch) {
      fail(target, body, `not idempotent: a second run answers ${JSON.stringify(response).slice(0, 300)}`);
    }
  }

  if (Object.getOwnPropertyNames(Object.prototype).join() !== prototypeBefore || ({} as Json).polluted) {
    report.failures.push({ function: '*', reason: 'Object.prototype was changed', file: '' });
  }
  report.durationMs = performance.now() - started;
  return report;
}

function push(pending: Pending[], item: Pending | undefined): void {
  if (item) pending.push(item);
}
