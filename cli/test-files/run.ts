// Runs the cases of test files: builds each input's review, answers it with the function
// under the case's configuration, has the patch applied as the apiserver would, and compares
// the answer with the expectation.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { functionNamed } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { describeIssues, formatPath } from '../../shared/field-path.ts';
import { functionHandler, serveReview } from '../../shared/handler.ts';
import { firstDifference } from '../../shared/k8s/subset.ts';
import { loadMode } from '../../shared/mode.ts';
import type { RequestInfo } from '../../shared/request-info.ts';
import { type AdmissionReviewReply, decodePatch } from '../../shared/response.ts';
import type { AdmissionReview, KubernetesObject } from '../../shared/review.ts';
import type { Judge, Verdict } from '../admission-check.ts';
import { CliError } from '../errors.ts';
import { entryInfo } from '../invoke.ts';
import { parseDocument, reviewOf } from '../review/input.ts';
import { type Expectation, type TestCase, testFile } from './schema.ts';

export interface CaseResult {
  readonly file: string;
  readonly name: string;
  readonly function: string;
  /** Empty when the case passed. */
  readonly problems: readonly string[];
  readonly seconds: number;
}

/** Test files under a folder (`*.test.yaml`, `*.test.yml`), or the one file named. */
export function testFilesIn(path: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(path);
  } catch (error) {
    throw new CliError(`cannot read ${path}: ${(error as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.test\.ya?ml$/.test(name) && !name.split('/').includes('node_modules'))
    .sort()
    .map((name) => join(path, name));
}

/** A case's configuration: the file's env under its own; relative paths are the file's. */
type Env = Record<string, string | null>;

function caseEnv(fileEnv: Env | undefined, own: Env | undefined, dir: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries({ ...fileEnv, ...own })) {
    if (value === null) continue;
    env[key] = /_FILE$/.test(key) && value && !value.startsWith('/') ? resolve(dir, value) : value;
  }
  return env;
}

function inputOf(value: string | Record<string, unknown>, dir: string, label: string): unknown {
  if (typeof value !== 'string') return value;
  const path = resolve(dir, value);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(`${label}: cannot read ${value}: ${(error as Error).message}`);
  }
  return parseDocument(text, `${label} (${value})`);
}

interface Prepared {
  readonly file: string;
  readonly testCase: TestCase;
  readonly functionName: string;
  readonly request?: AdmissionReview;
  readonly reply?: AdmissionReviewReply;
  readonly validating: boolean;
  readonly problem?: string;
  readonly seconds: number;
}

function prepare(
  file: string,
  defaults: { function?: string; env?: Env },
  testCase: TestCase,
  index: number,
): Prepared {
  const started = performance.now();
  const dir = dirname(file);
  const label = `cases[${index}] "${testCase.name}"`;
  const functionName = testCase.function ?? defaults.function ?? '';
  const base = { file, testCase, functionName, validating: false };
  const seconds = () => (performance.now() - started) / 1000;
  try {
    if (!functionName) throw new CliError(`${label}: no function (set function: in the case or the file)`);
    let mutation: ReturnType<typeof functionNamed>;
    try {
      mutation = functionNamed(functionName);
    } catch (error) {
      throw new CliError(`${label}: ${(error as Error).message}`);
    }
    const env = caseEnv(defaults.env, testCase.env, dir);
    const config = loadConfig(mutation, env);
    const mode = loadMode(mutation, env);
    const request = reviewOf(
      inputOf(testCase.input, dir, `${label} input`),
      {
        ...(testCase.pod && { pod: true }),
        ...(testCase.operation && { operation: testCase.operation }),
        ...(testCase.old && { oldObject: inputOf(testCase.old, dir, `${label} old`) as KubernetesObject }),
        ...(testCase.namespace && { namespace: testCase.namespace }),
        ...(testCase.resource && { resource: testCase.resource }),
        ...(testCase.subResource && { subResource: testCase.subResource }),
        ...(testCase.user && { user: testCase.user }),
        ...(testCase.groups && { groups: testCase.groups }),
        ...(testCase.dryRun && { dryRun: true }),
      },
      `${label} input`,
    );
    let info: RequestInfo = {};
    try {
      info = entryInfo(mutation, config, testCase.entry);
    } catch (error) {
      throw new CliError(`${label} entry: ${(error as Error).message}`);
    }
    const reply = serveReview(functionHandler({ mutation, config, mode }), request, info);
    return { ...base, request, reply, validating: mutation.kind === 'validating', seconds: seconds() };
  } catch (error) {
    // A case that cannot run fails with its reason; the other cases still run.
    return { ...base, problem: (error as Error).message, seconds: seconds() };
  }
}

const show = (value: unknown) => {
  const text = JSON.stringify(value);
  return text === undefined ? 'nothing' : text.length > 200 ? `${text.slice(0, 199)}…` : text;
};

/** What differs between an answer (and the apiserver's verdict on it) and the expectation. */
export function compare(expect: Expectation, reply: AdmissionReviewReply, verdict: Verdict): string[] {
  const problems: string[] = [];
  const { response } = reply;
  if (!verdict.accepted) problems.push(`the apiserver would refuse the reply: ${verdict.error}`);
  const message = response.status?.message ?? '';
  const verdictLine = response.allowed ? 'allowed' : `denied (${response.status?.code}): ${message}`;
  if (expect.allowed !== undefined && expect.allowed !== response.allowed)
    problems.push(`expected ${expect.allowed ? 'allowed' : 'denied'}, got ${verdictLine}`);
  if (
    (expect.message !== undefined || expect.messageMatches !== undefined || expect.code !== undefined) &&
    response.allowed
  )
    problems.push(`expected a denial, got allowed`);
  if (!response.allowed) {
    if (expect.code !== undefined && response.status?.code !== expect.code)
      problems.push(`expected code ${expect.code}, got ${response.status?.code}`);
    if (expect.message !== undefined && !message.includes(expect.message))
      problems.push(`message does not contain ${show(expect.message)}: ${show(message)}`);
    if (expect.messageMatches !== undefined && !new RegExp(expect.messageMatches).test(message))
      problems.push(`message does not match /${expect.messageMatches}/: ${show(message)}`);
  }
  const patch = decodePatch(response);
  if (expect.patch !== undefined) {
    const difference = firstDifference(expect.patch, patch);
    if (difference !== undefined || patch.length !== expect.patch.length)
      problems.push(
        `patch differs${difference?.length ? ` at ${formatPath(difference)}` : ''}: ${show(patch)}`,
      );
  }
  if (expect.object !== undefined) {
    if (!verdict.accepted || !verdict.allowed) problems.push('expected a patched object, there is none');
    else {
      const difference = firstDifference(expect.object, verdict.object);
      if (difference !== undefined) {
        const at = difference.reduce<unknown>(
          (v, k) => (v as Record<PropertyKey, unknown>)?.[k],
          verdict.object,
        );
        const wanted = difference.reduce<unknown>(
          (v, k) => (v as Record<PropertyKey, unknown>)?.[k],
          expect.object,
        );
        problems.push(
          `patched object at ${formatPath(difference) || '(root)'}: expected ${show(wanted)}, got ${show(at)}`,
        );
      }
    }
  }
  if (expect.warnings !== undefined) {
    const warnings = response.warnings ?? [];
    const matches =
      warnings.length === expect.warnings.length && expect.warnings.every((w, i) => warnings[i]?.includes(w));
    if (!matches) problems.push(`warnings ${show(warnings)}, expected ${show(expect.warnings)}`);
  }
  return problems;
}

/** Reads and checks one test file; a malformed file is a CliError naming the field. */
export function readTestFile(file: string) {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`);
  }
  const parsed = testFile.safeParse(data);
  if (!parsed.success) throw new CliError(`${file}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

export async function runTestFiles(files: readonly string[], judge: Judge): Promise<CaseResult[]> {
  const prepared: Prepared[] = [];
  for (const file of files) {
    const { function: fn, env, cases } = readTestFile(file);
    cases.forEach(
      (c, i) => void prepared.push(prepare(file, { ...(fn && { function: fn }), ...(env && { env }) }, c, i)),
    );
  }
  const answered = prepared.filter((p) => p.request && p.reply);
  const verdicts = await judge.judge(
    answered.map((p) => ({
      request: p.request as AdmissionReview,
      reply: p.reply as AdmissionReviewReply,
      validating: p.validating,
    })),
  );
  const verdictOf = new Map(answered.map((p, i) => [p, verdicts[i]]));
  return prepared.map((p) => {
    const verdict = verdictOf.get(p);
    const problems = p.problem
      ? [p.problem]
      : compare(p.testCase.expect, p.reply as AdmissionReviewReply, verdict as Verdict);
    return { file: p.file, name: p.testCase.name, function: p.functionName, problems, seconds: p.seconds };
  });
}
