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

export interface ClassReport {
  name: string;
  cases: number;
  /** Answers: admitted (with the apiserver's verdict), denied, refused with a 4xx. */
  allowed: number;
  denied: number;
  refused: number;
  /** Cases also sent to every runtime (faas-js-runtime, OpenFaaS, standalone). */
  overRuntimes: number;
  slowestMs: number;
  failures: Failure[];
}

export interface ClassOptions {
  /** Cases per class. */
  count: number;
  seed: number;
  /** Only these classes (names from HOSTILE_CLASSES). */
  only?: readonly string[];
  /** Send the classes that ask for it over every runtime, each a child process. */
  runtimes?: boolean;
  failureDir?: string;
}

/**
 * Runs each hostile class: its generated cases through the function in-process, the answers
 * judged by admission-check (so the oracle sees the pod the apiserver ends up with), each
 * outcome checked by the class; classes marked everyRuntime also over HTTP to every runtime,
 * whose answer must be the in-process one.
 */
export async function fuzzClasses(options: ClassOptions): Promise<ClassReport[]> {
  const { HOSTILE_CLASSES } = await import('./classes.ts');
  const { RUNTIMES, sendReview, startRuntime } = await import('../support/every-runtime.ts');
  const failureDir = options.failureDir ?? join(tmpdir(), `faas-admission-fuzz-classes-${options.seed}`);
  const loaded = new Map<string, LoadedMutation>();
  const load = (name: string, env: Record<string, string>): LoadedMutation => {
    const key = `${name} ${JSON.stringify(env)}`;
    let entry = loaded.get(key);
    if (!entry) {
      const mutation = functions.get(name);
      if (!mutation) throw new Error(`no function ${name}`);
      entry = { mutation, config: loadConfig(mutation, env) };
      loaded.set(key, entry);
    }
    return entry;
  };
  const reports: ClassReport[] = [];
  for (const [index, hostile] of HOSTILE_CLASSES.entries()) {
    if (options.only && !options.only.includes(hostile.name)) continue;
    const report: ClassReport = {
      name: hostile.name,
      cases: 0,
      allowed: 0,
      denied: 0,
      refused: 0,
      overRuntimes: 0,
      slowestMs: 0,
      failures: [],
    };
    reports.push(report);
    const fail = (c: { function: string; body: string; env: Record<string, string> }, reason: string) => {
      if (report.failures.length >= 20) return;
      mkdirSync(failureDir, { recursive: true });
      const file = join(failureDir, `${hostile.name}-${report.failures.length}-${c.function}.json`);
      writeFileSync(file, c.body);
      const policy = c.env.VOLUME_POLICY_FILE ? `VOLUME_POLICY_FILE=${c.env.VOLUME_POLICY_FILE} ` : '';
      report.failures.push({
        function: `${hostile.name}: ${c.function}`,
        reason: `${reason.slice(0, 600)} (replay: ${policy}npm run --silent invoke -- ${c.function} ${file})`,
        file,
      });
    };
    const cases = fc.sample(hostile.cases, { numRuns: options.count, seed: options.seed + index });
    const answered: { c: (typeof cases)[number]; answer: HttpAnswer; ms: number }[] = [];
    for (const c of cases) {
      report.cases++;
      const t0 = performance.now();
      let answer: HttpAnswer;
      try {
        answer = answerBody(functionHandler(load(c.function, c.env)), c.body);
        // The runtime must be able to send it.
        JSON.stringify(answer.body);
      } catch (error) {
        fail(c, `threw: ${(error as Error).stack ?? error}`);
        continue;
      }
      const ms = performance.now() - t0;
      report.slowestMs = Math.max(report.slowestMs, ms);
      answered.push({ c, answer, ms });
    }
    // The apiserver's verdict on every review answered; without a patch it needs no object.
    const judged = hostile.judged === false ? [] : answered.filter((a) => a.answer.status === 200);
    const verdicts = await apiserverVerdicts(
      judged.map(({ c, answer }) => {
        const sent = JSON.parse(c.body);
        const reply = answer.body as Json;
        const request = reply?.response?.patch
          ? sent
          : { ...sent, request: { ...sent.request, object: null, oldObject: null } };
        return { request, reply, validating: functions.get(c.function)?.kind === 'validating' };
      }),
    );
    const verdictOf = new Map(judged.map((a, i) => [a, verdicts[i]]));
    for (const a of answered) {
      const reply = a.answer.body as Json;
      const verdict = verdictOf.get(a);
      if (verdict && !verdict.accepted) {
        fail(a.c, `the apiserver refuses the reply: ${verdict.error}`);
        continue;
      }
      const response = reply?.response;
      if (a.answer.status === 200 && hostile.judged !== false && !verdict) continue;
      const outcome = {
        status: a.answer.status,
        reply,
        allowed: verdict?.accepted ? verdict.allowed : response?.allowed === true,
        // Without a patch the judge had no object to patch: the pod is the one sent.
        ...(verdict?.accepted && verdict.allowed
          ? { object: reply?.response?.patch ? verdict.object : JSON.parse(a.c.body).request?.object }
          : {}),
        message: String(a.answer.status === 200 ? (response?.status?.message ?? '') : (reply?.message ?? '')),
        warnings: (response?.warnings ?? []) as string[],
        ms: a.ms,
      };
      if (a.answer.status !== 200) report.refused++;
      else if (outcome.allowed) report.allowed++;
      else report.denied++;
      const problem = hostile.check(a.c, outcome);
      if (problem) fail(a.c, problem);
    }
    if (options.runtimes && hostile.everyRuntime) {
      // The same answer from every runtime, for the function every runtime serves in the tests.
      const overHttp = answered.filter((a) => a.c.function === 'label-stamping');
      const env = overHttp[0]?.c.env;
      if (env) {
        for (const name of RUNTIMES) {
          const runtime = await startRuntime(name, { ...env, LOG_LEVEL: 'silent' });
          try {
            for (const a of overHttp) {
              const reply = await sendReview(runtime, a.c.body).catch((error: Error) => error);
              report.overRuntimes++;
              if (reply instanceof Error) fail(a.c, `${name}: ${reply.message}`);
              else if (
                reply.status !== a.answer.status ||
                JSON.stringify(reply.json) !== JSON.stringify(a.answer.body)
              ) {
                fail(
                  a.c,
                  `${name} answered ${reply.status} ${reply.text.slice(0, 300)}, in-process ${a.answer.status} ${JSON.stringify(a.answer.body).slice(0, 300)}`,
                );
              }
            }
          } finally {
            await runtime.stop();
          }
        }
      }
    }
  }
  return reports;
}
