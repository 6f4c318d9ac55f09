// Invokes one function locally on an AdmissionReview, or on any Kubernetes object made into
// the review the apiserver would send, with the configuration the deployed function would
// read from the same environment variables.
//
// Prints exactly the AdmissionReview the function answers over HTTP (exit 0, denials too),
// or with --explain a reading of it for a person. Unreadable input: exit 2.
import { parseArgs } from 'node:util';
import { functionNamed, functions } from '../functions/index.ts';
import { describeConfig, loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { functionHandler, serveReview } from '../shared/handler.ts';
import { loadMode, type Mode } from '../shared/mode.ts';
import { type AnyMutation, webhookSettings } from '../shared/mutation.ts';
import type { RequestInfo } from '../shared/request-info.ts';
import type { AdmissionReview, Operation } from '../shared/review.ts';
import { createLogger, useLogger } from '../shared/telemetry/log.ts';
import { CliError, fail, runAsScript } from './errors.ts';
import { explain } from './explain.ts';
import { type InputOptions, readObject, readReview } from './review/input.ts';
import { WORKLOAD_KINDS } from './review/pod.ts';

export const reviewOptionsUsage = `  input: an AdmissionReview, or any Kubernetes object (YAML or JSON; - for stdin), made into
  the review the apiserver would send:
    --operation OP     CREATE (default), UPDATE, DELETE or CONNECT
    --old FILE         the object before the change (UPDATE)
    --namespace NS     the request's namespace (default: metadata.namespace, else default)
    --resource RES     plural resource for kinds not in the built-in table (RES, RES/SUB or GROUP/VERSION/RES)
    --subresource SUB  a subresource (status, scale...)
    --user NAME        userInfo.username (default kubernetes-admin; with --pod the controller)
    --group G          userInfo.groups (repeatable; default: those of the user)
    --dry-run          request.dryRun: true
    --v1beta1          an admission.k8s.io/v1beta1 review
    --pod              from a workload, the pod its controller creates:
                       ${WORKLOAD_KINDS.join(', ')}`;

const usage = `usage: faas-admission invoke <function> <input | -> [options] [--explain] [--print-review]
${reviewOptionsUsage}
  --entry NAME       the webhook entry the review is sent on, for a function registered by
                     several (sidecar-injection: namespace, pod): posted to /<function>/NAME
  --explain          verdict, warnings, patch and object diff, for a person
  --print-review     print the review sent to the function, not its answer
functions: ${[...functions.keys()].join(', ')}
Configuration: the variables the deployed function reads (faas-admission invoke <function> --help).`;

export const reviewOptionFlags = {
  operation: { type: 'string' },
  old: { type: 'string' },
  namespace: { type: 'string', short: 'n' },
  resource: { type: 'string' },
  subresource: { type: 'string' },
  user: { type: 'string' },
  group: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  v1beta1: { type: 'boolean' },
  pod: { type: 'boolean' },
} as const;

const OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

type ReviewFlagValues = {
  operation?: string;
  old?: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  user?: string;
  group?: string[];
  'dry-run'?: boolean;
  v1beta1?: boolean;
  pod?: boolean;
};

/** The review options of the shared flags. */
export function inputOptions(values: ReviewFlagValues): InputOptions {
  const operation = values.operation?.toUpperCase();
  if (operation !== undefined && !OPERATIONS.includes(operation as Operation))
    fail(`--operation "${values.operation}": expected one of ${OPERATIONS.join(', ')}`);
  return {
    ...(operation && { operation: operation as Operation }),
    ...(values.old && { oldObject: readObject(values.old, '--old') }),
    ...(values.namespace && { namespace: values.namespace }),
    ...(values.resource && { resource: values.resource }),
    ...(values.subresource && { subResource: values.subresource }),
    ...(values.user && { user: values.user }),
    ...(values.group && { groups: values.group }),
    ...(values['dry-run'] && { dryRun: true }),
    ...(values.v1beta1 && { apiVersion: 'admission.k8s.io/v1beta1' as const }),
    ...(values.pod && { pod: true }),
  };
}

export async function main(argv: string[]): Promise<number> {
  // The answer is the output; review log lines (stderr) only when asked for with LOG_LEVEL.
  if (!process.env.LOG_LEVEL) useLogger(createLogger({ level: 'silent' }));
  let parsed: {
    values: ReviewFlagValues & {
      explain?: boolean;
      help?: boolean;
      'print-review'?: boolean;
      entry?: string;
    };
    positionals: string[];
  };
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...reviewOptionFlags,
        explain: { type: 'boolean' },
        'print-review': { type: 'boolean' },
        entry: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  const [name, file, ...extra] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(`${usage}\n${name && functions.has(name) ? functionHelp(name) : ''}`);
    return 0;
  }
  if (!name || !file || extra.length > 0) fail(usage);
  let mutation: ReturnType<typeof functionNamed>;
  try {
    mutation = functionNamed(name);
  } catch (error) {
    fail((error as Error).message);
  }
  const request: AdmissionReview = readReview(file, inputOptions(parsed.values));
  if (parsed.values['print-review']) {
    process.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
    return 0;
  }
  let config: unknown;
  let mode: Mode;
  try {
    config = loadConfig(mutation);
    mode = loadMode(mutation);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  const info = entryInfo(mutation, config, parsed.values.entry);
  const reply = serveReview(functionHandler({ mutation, config, mode }), request, info);
  process.stdout.write(parsed.values.explain ? explain(name, request, reply) : `${JSON.stringify(reply)}\n`);
  return 0;
}

/** The registration entries of a function (its `matches`), under this configuration. */
export function entriesOf(mutation: AnyMutation, config: unknown): string[] {
  return (webhookSettings(mutation, config).matches ?? []).map((m) => m.name);
}

/**
 * What the transport would know of a review sent on `entry`: the path `/<function>/<entry>`
 * the apiserver posts to. An entry the function is not registered with is an error naming them.
 */
export function entryInfo(mutation: AnyMutation, config: unknown, entry: string | undefined): RequestInfo {
  if (entry === undefined) return {};
  const entries = entriesOf(mutation, config);
  if (!entries.includes(entry))
    fail(
      entries.length === 0
        ? `--entry "${entry}": ${mutation.name} is registered by a single entry (post to /${mutation.name})`
        : `--entry "${entry}": ${mutation.name} has the entries ${entries.join(', ')}`,
    );
  return { path: `/${mutation.name}/${entry}` };
}

function functionHelp(name: string): string {
  const variables = describeConfig(functionNamed(name));
  const width = Math.max(0, ...variables.map((v) => v.variable.length));
  const mutation = functionNamed(name);
  let entries: string[] = [];
  try {
    entries = entriesOf(mutation, loadConfig(mutation));
  } catch {
    // a configuration this environment does not give: the entries are shown with it only
  }
  return [
    `${name} reads:`,
    ...variables.map((v) => `  ${v.variable.padEnd(width)}  ${v.description}`),
    ...(entries.length > 0 ? [`${name} is registered by the entries (--entry): ${entries.join(', ')}`] : []),
    '',
  ].join('\n');
}

if (import.meta.main) await runAsScript('invoke', main);
