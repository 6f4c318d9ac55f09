// faas-admission check <manifest | kind/name>: against a live cluster, which webhooks the
// apiserver would call for the object and why not, what this project's functions would
// answer (run locally on the same review), whether a stored object carries their mutations,
// and the admission budget of every webhook it is sent to.
import { parseArgs, styleText } from 'node:util';
import { functions } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { functionHandler, serveReview } from '../../shared/handler.ts';
import { loadMode } from '../../shared/mode.ts';
import { decodePatch } from '../../shared/response.ts';
import type { AdmissionReview, KubernetesObject } from '../../shared/review.ts';
import { createLogger, useLogger } from '../../shared/telemetry/log.ts';
import { CliError, fail } from '../errors.ts';
import { explain } from '../explain.ts';
import { inputOptions, reviewOptionFlags } from '../invoke.ts';
import { reviewFor } from '../review/build.ts';
import { readReview } from '../review/input.ts';
import { kindOfResource } from '../review/kinds.ts';
import { apiserverOrder, type BudgetEntry, budgetOf, type Latency, latencies, timeoutOf } from './budget.ts';
import { Cluster, type WebhookConfiguration } from './cluster.ts';
import { decide, type Webhook } from './matching.ts';

const usage = `usage: faas-admission check <manifest.yaml | - | KIND/NAME> [options]
  A manifest (or any input invoke takes) is checked as the review its creation would send;
  KIND/NAME (pod/web-7d9f-abcde, deployment/web) reads the stored object and checks whether it
  carries each function's mutation, as created by its controller (ReplicaSet, Job, ...) or by
  --user (default kubernetes-admin): an object does not record who created it.
  --namespace NS     the object's namespace (default: the manifest's, else the kubeconfig context's, else default)
  --env [FN:]K=V     configuration of the functions run locally (repeatable; FN: for one function);
                     default: the env of each function's Knative Service in the cluster
  --deadline S       the request's deadline in seconds (default 30: a client's usual timeout;
                     kube-apiserver gives up on a request after --request-timeout, 60 s)
  --prometheus URL   show each function's p50/p99 (last hour) beside its webhooks
  --kubeconfig FILE  (default: KUBECONFIG, ~/.kube/config)   --context NAME
  and invoke's input options: --pod, --operation, --old, --user, --group, --dry-run, --resource
Exit 1 when a stored object misses a mutation, a function would deny, or the budget exceeds the deadline.`;

/** This project's configurations: labelled part-of faas-admission (deploy/ writes that label). */
const isOurs = (c: WebhookConfiguration) =>
  c.labels['app.kubernetes.io/part-of'] === 'faas-admission' || c.name === 'faas-admission';

/** The path a webhook posts to (`/sidecar-injection/namespace`): its function and entry. */
function pathOf(webhook: Webhook): string {
  return (
    webhook.clientConfig?.service?.path ??
    (webhook.clientConfig?.url ? new URL(webhook.clientConfig.url).pathname : '') ??
    ''
  );
}

/** The function a webhook of ours posts to: the first segment of its path. */
function functionOf(webhook: Webhook): string | undefined {
  const name = pathOf(webhook).split('/').filter(Boolean)[0];
  return name && functions.has(name) ? name : undefined;
}

/** The ServiceAccount each controller creates objects as (kube-controller-manager's names). */
const CONTROLLERS: Record<string, string> = {
  ReplicaSet: 'replicaset-controller',
  StatefulSet: 'statefulset-controller',
  DaemonSet: 'daemon-set-controller',
  Job: 'job-controller',
  CronJob: 'cronjob-controller',
  Deployment: 'deployment-controller',
  ReplicationController: 'replication-controller',
};

/** Who created a stored object, when its controller owner says so. */
function creatorOf(object: KubernetesObject): string | undefined {
  const owners = object.metadata?.ownerReferences;
  const owner = Array.isArray(owners)
    ? (owners as { kind?: string; controller?: boolean }[]).find((o) => o.controller)
    : undefined;
  const controller = owner?.kind ? CONTROLLERS[owner.kind] : undefined;
  return controller && `system:serviceaccount:kube-system:${controller}`;
}

function parseEnv(pairs: readonly string[]): {
  all: Record<string, string>;
  perFunction: Map<string, Record<string, string>>;
} {
  const all: Record<string, string> = {};
  const perFunction = new Map<string, Record<string, string>>();
  for (const pair of pairs) {
    const match = /^(?:([a-z0-9-]+):)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!match) fail(`--env "${pair}": expected KEY=VALUE or FUNCTION:KEY=VALUE`);
    const [, fn, key, value] = match as unknown as [string, string | undefined, string, string];
    if (fn && !functions.has(fn)) fail(`--env "${pair}": unknown function "${fn}"`);
    const target = fn ? (perFunction.get(fn) ?? {}) : all;
    target[key] = value;
    if (fn) perFunction.set(fn, target);
  }
  return { all, perFunction };
}

const seconds = (s: number) => (s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

export async function main(argv: string[]): Promise<number> {
  if (!process.env.LOG_LEVEL) useLogger(createLogger({ level: 'silent' }));
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        ...reviewOptionFlags,
        env: { type: 'string', multiple: true },
        deadline: { type: 'string' },
        prometheus: { type: 'string' },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) fail(usage);
  const deadline = values.deadline === undefined ? 30 : Number(values.deadline);
  if (!(deadline > 0)) fail(`--deadline "${values.deadline}": expected a number of seconds`);
  const env = parseEnv((values.env as string[] | undefined) ?? []);
  const cluster = new Cluster(values.kubeconfig as string | undefined, values.context as string | undefined);
  const options = inputOptions(values as Parameters<typeof inputOptions>[0]);
  const contextNamespace = cluster.config.getContextObject(cluster.config.getCurrentContext())?.namespace;

  // A stored object: KIND/NAME that is not a file.
  const stored =
    /^[A-Za-z.]+\/[a-z0-9][-a-z0-9.]*$/.test(target) &&
    !target.includes('.yaml') &&
    !target.includes('.json');
  let reviewed: AdmissionReview;
  if (stored) {
    const [resource = '', name = ''] = target.split('/');
    const kind = kindOfResource(resource);
    if (!kind) fail(`${target}: unknown kind "${resource}" (give a manifest instead)`);
    const apiVersion = kind.group ? `${kind.group}/v1` : 'v1';
    const namespace = options.namespace ?? contextNamespace ?? 'default';
    const object = await cluster.storedObject(apiVersion, kind.kind, name, namespace);
    // As it was admitted: the review of its creation (mutations act at CREATE), by its
    // controller when it has one (an object does not record who created it: --user).
    const user = options.user ?? creatorOf(object);
    reviewed = reviewFor(
      object,
      { ...options, operation: options.operation ?? 'CREATE', ...(user && { user }) },
      target,
    );
  } else {
    reviewed = readReview(target, {
      ...options,
      ...(!options.namespace && contextNamespace && { namespace: contextNamespace }),
    });
  }
  const { request } = reviewed;
  const object = request.object ?? request.oldObject;
  const out = (style: Parameters<typeof styleText>[0], text: string) =>
    styleText(style, text, { stream: process.stdout });
  const lines: string[] = [];
  const where = request.namespace ? `${request.namespace}/` : '';
  const objectName = request.name || `${object?.metadata?.generateName ?? ''}*`;
  lines.push(
    `${request.kind.kind} ${where}${objectName}: ${request.operation} by ${request.userInfo?.username ?? '?'} on ${cluster.server}${stored ? ' (stored object)' : ''}`,
  );
  const namespaceLabels = request.namespace ? await cluster.namespaceLabels(request.namespace) : null;
  if (request.namespace) lines.push(`namespace ${request.namespace}: ${JSON.stringify(namespaceLabels)}`);

  const configurations = await cluster.webhookConfigurations();
  const called: BudgetEntry[] = [];
  // One local run per function and path: an entry's path tells the function which entry sent it.
  const runs = new Map<string, { fn: string; path: string; ours: BudgetEntry; webhooks: string[] }>();
  lines.push('');
  for (const kind of ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'] as const) {
    const ofKind = configurations.filter((c) => c.kind === kind).sort((a, b) => (a.name < b.name ? -1 : 1));
    lines.push(
      out(
        'bold',
        `${kind === 'MutatingWebhookConfiguration' ? 'mutating webhooks, in the order the apiserver calls them' : 'validating webhooks (called in parallel)'}:`,
      ),
    );
    if (ofKind.length === 0) lines.push('  (none)');
    for (const configuration of ofKind) {
      for (const webhook of configuration.webhooks) {
        const decision = decide(webhook, { request, namespaceLabels });
        const ours = isOurs(configuration);
        const fn = ours ? functionOf(webhook) : undefined;
        const head = `  ${configuration.name}/${webhook.name}${fn ? ` (${fn})` : ''}`;
        const policy = `timeout ${timeoutOf(webhook)} s, failurePolicy ${webhook.failurePolicy ?? 'Fail'}${webhook.reinvocationPolicy === 'IfNeeded' ? ', reinvoked if needed' : ''}`;
        if (decision.called) {
          lines.push(
            `${head}: ${out('green', 'CALLED')} (${policy})${decision.reason ? `: ${decision.reason}` : ''}`,
          );
          const entry: BudgetEntry = {
            configuration: configuration.name,
            webhook,
            validating: kind === 'ValidatingWebhookConfiguration',
            ours,
            ...(fn && { function: fn }),
          };
          called.push(entry);
          if (fn) {
            const path = pathOf(webhook);
            const run = runs.get(`${fn} ${path}`) ?? { fn, path, ours: entry, webhooks: [] };
            run.webhooks.push(webhook.name);
            runs.set(`${fn} ${path}`, run);
          }
        } else {
          lines.push(`${head}: ${out('yellow', 'not called')}: ${decision.reason}`);
        }
      }
    }
    lines.push('');
  }

  let problems = 0;
  if (runs.size > 0)
    lines.push(
      out(
        'bold',
        stored
          ? "this project's functions on the stored object (does it carry their mutations?):"
          : "this project's functions, run locally on the same review:",
      ),
    );
  for (const { fn, path, ours } of runs.values()) {
    const mutation = functions.get(fn);
    if (!mutation) continue;
    const serviceNamespace = ours.webhook.clientConfig?.service?.namespace ?? 'faas-admission';
    const fromCluster =
      env.perFunction.has(fn) || Object.keys(env.all).length > 0
        ? undefined
        : await cluster.knativeEnv(serviceNamespace, fn);
    const functionEnv = { ...fromCluster, ...env.all, ...env.perFunction.get(fn) };
    const source = fromCluster
      ? `env of Knative Service ${serviceNamespace}/${fn}`
      : Object.keys(functionEnv).length > 0
        ? '--env'
        : 'defaults (no Knative Service found, no --env)';
    let reply: ReturnType<typeof serveReview>;
    try {
      reply = serveReview(
        functionHandler({
          mutation,
          config: loadConfig(mutation, functionEnv),
          mode: loadMode(mutation, functionEnv),
        }),
        reviewed,
        { path },
      );
    } catch (error) {
      throw new CliError(`${fn}: ${(error as Error).message} (configuration from ${source})`);
    }
    lines.push(`  ${fn} on ${path}: configuration ${source}`);
    const patch = decodePatch(reply.response);
    if (stored) {
      if (!reply.response.allowed) {
        problems++;
        lines.push(`  ${fn}: ${out('red', 'would be DENIED now')}: ${reply.response.status?.message ?? ''}`);
      } else if (patch.length > 0) {
        problems++;
        lines.push(
          `  ${fn}: ${out('red', 'MISSING its mutation')}: the function would patch ${patch.length} operation(s) (admitted while it was down, failed open, or before it was deployed)`,
        );
      } else {
        lines.push(`  ${fn}: ${out('green', 'carries its mutation')} (a run now changes nothing)`);
        continue;
      }
    } else if (!reply.response.allowed) problems++;
    lines.push(
      ...explain(fn, reviewed, reply)
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`),
    );
  }
  if (runs.size > 0) lines.push('');

  const ordered = apiserverOrder(called);
  const budget = budgetOf(ordered, deadline);
  let observed = new Map<string, Partial<Latency>>();
  if (values.prometheus) {
    try {
      observed = await latencies(values.prometheus as string);
    } catch (error) {
      lines.push(`prometheus: ${(error as Error).message} (latencies left out)`);
    }
  }
  lines.push(out('bold', `admission budget (deadline ${deadline} s):`));
  ordered.forEach((entry, i) => {
    const latency = entry.function ? observed.get(entry.function) : undefined;
    const measured = latency
      ? `   p50 ${latency.p50 === undefined ? '?' : seconds(latency.p50)}, p99 ${latency.p99 === undefined ? '?' : seconds(latency.p99)}`
      : '';
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${entry.validating ? 'validating' : 'mutating  '} ${String(timeoutOf(entry.webhook)).padStart(3)} s  ${(entry.webhook.failurePolicy ?? 'Fail').padEnd(6)} ${entry.configuration}/${entry.webhook.name}${entry.ours ? ' [faas-admission]' : ''}${measured}`,
    );
  });
  if (ordered.length === 0) lines.push('  no webhook is called');
  else {
    const parts = [`mutating ${budget.mutatingSeconds} s`];
    if (budget.reinvocationSeconds) parts.push(`reinvocation ${budget.reinvocationSeconds} s`);
    if (budget.validatingSeconds) parts.push(`validating ${budget.validatingSeconds} s (the slowest)`);
    const verdict = budget.over
      ? out('red', `OVER the deadline by ${budget.worstSeconds - deadline} s`)
      : out('green', 'within the deadline');
    lines.push(`  worst case: ${parts.join(' + ')} = ${budget.worstSeconds} s of ${deadline} s: ${verdict}`);
    const ignoring = ordered
      .filter((e) => e.webhook.failurePolicy === 'Ignore')
      .reduce((s, e) => s + timeoutOf(e.webhook), 0);
    if (ignoring > 0)
      lines.push(
        `  of which ${ignoring} s are Ignore webhooks: they admit when they time out, but the time still passes`,
      );
    if (budget.over) problems++;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return problems > 0 ? 1 : 0;
}
