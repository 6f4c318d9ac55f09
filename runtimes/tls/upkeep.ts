// One run of the certificate upkeep against a cluster: reads the CA Secret, the serving Secret
// and the webhook configurations, plans (upkeep-plan.ts), checks that the identity may make
// every write of the plan before making any, then writes in the plan's order and logs each.
import { type KubeApi, KubeError } from './kube-api.ts';
import {
  type ConfigurationRef,
  type Plan,
  plan,
  type State,
  type StoredConfiguration,
  type StoredSecret,
  type UpkeepPolicy,
  UpkeepRefusal,
  type Write,
} from './upkeep-plan.ts';

export interface UpkeepResult {
  /** 0: done (or nothing to do); 1: a bad state was found and left alone, or a write failed. */
  exitCode: number;
  plan?: Plan;
}

export type UpkeepLog = (level: 'info' | 'error', message: string) => void;

const secretPath = (namespace: string, name?: string) =>
  `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;

const configurationResource = (ref: ConfigurationRef) =>
  ref.kind === 'MutatingWebhookConfiguration'
    ? 'mutatingwebhookconfigurations'
    : 'validatingwebhookconfigurations';

const configurationPath = (ref: ConfigurationRef) =>
  `/apis/admissionregistration.k8s.io/v1/${configurationResource(ref)}/${encodeURIComponent(ref.name)}`;

function decodeSecret(object: Record<string, unknown>): StoredSecret {
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries((object.data ?? {}) as Record<string, unknown>))
    if (typeof value === 'string') data[key] = Buffer.from(value, 'base64').toString('utf8');
  return {
    resourceVersion: String(metadata.resourceVersion ?? ''),
    type: String(object.type ?? 'Opaque'),
    annotations: (metadata.annotations ?? {}) as Record<string, string>,
    labels: (metadata.labels ?? {}) as Record<string, string>,
    data,
  };
}

function decodeConfiguration(ref: ConfigurationRef, object: Record<string, unknown>): StoredConfiguration {
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  const webhooks = Array.isArray(object.webhooks) ? (object.webhooks as Record<string, unknown>[]) : [];
  return {
    ref,
    resourceVersion: String(metadata.resourceVersion ?? ''),
    labels: (metadata.labels ?? {}) as Record<string, string>,
    annotations: (metadata.annotations ?? {}) as Record<string, string>,
    webhooks: webhooks.map((webhook) => {
      const caBundle = (webhook.clientConfig as Record<string, unknown> | undefined)?.caBundle;
      return { name: String(webhook.name), ...(typeof caBundle === 'string' && { caBundle }) };
    }),
  };
}

async function readState(api: KubeApi, policy: UpkeepPolicy): Promise<State> {
  const secret = async (name: string) => {
    const object = await api.get(secretPath(policy.namespace, name), `Secret ${policy.namespace}/${name}`);
    return object && decodeSecret(object);
  };
  const caSecret = await secret(policy.caSecret);
  const servingSecret = await secret(policy.servingSecret);
  const configurations = new Map<ConfigurationRef, StoredConfiguration | undefined>();
  for (const ref of policy.configurations) {
    const object = await api.get(configurationPath(ref), `${ref.kind} ${ref.name}`);
    configurations.set(ref, object && decodeConfiguration(ref, object));
  }
  return { ...(caSecret && { caSecret }), ...(servingSecret && { servingSecret }), configurations };
}

function permissionFor(write: Write, policy: UpkeepPolicy) {
  if (write.kind === 'secret')
    return {
      verb: write.create ? 'create' : 'update',
      group: '',
      resource: 'secrets',
      namespace: policy.namespace,
      ...(!write.create && { name: write.name }),
      what: `${write.create ? 'create' : 'update'} Secret ${policy.namespace}/${write.name}`,
    };
  return {
    verb: 'patch',
    group: 'admissionregistration.k8s.io',
    resource: configurationResource(write.ref),
    name: write.ref.name,
    what: `patch ${write.ref.kind} ${write.ref.name}`,
  };
}

function secretBody(policy: UpkeepPolicy, write: Extract<Write, { kind: 'secret' }>) {
  const { secret } = write;
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data))
    data[key] = Buffer.from(value, 'utf8').toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: write.name,
      namespace: policy.namespace,
      labels: secret.labels,
      ...(Object.keys(secret.annotations).length > 0 && { annotations: secret.annotations }),
      // An update names the version it was planned from: a Secret changed meanwhile is a conflict, not overwritten.
      ...(secret.resourceVersion !== undefined && { resourceVersion: secret.resourceVersion }),
    },
    type: secret.type,
    data,
  };
}

function explain(error: unknown, policy: UpkeepPolicy): string {
  if (error instanceof KubeError) {
    if (error.status === 401) return `${error.message}: the credentials are not accepted`;
    if (error.status === 403)
      return `${error.message}: this identity has no permission (RBAC) for it; grant the Role and ClusterRole of deploy/cert-upkeep/ (see docs/certificates.md)`;
    if (error.status === 409 || (error.status === 422 && error.verb === 'patch'))
      return `${error.message}: it changed while this run was planning; nothing of it was overwritten, the next run starts again from what is stored`;
  }
  void policy;
  return (error as Error).message;
}

export async function runUpkeep(
  api: KubeApi,
  policy: UpkeepPolicy,
  options: { dryRun: boolean; log: UpkeepLog; now?: number },
): Promise<UpkeepResult> {
  const { log, dryRun } = options;
  let state: State;
  let planned: Plan;
  try {
    state = await readState(api, policy);
    planned = await plan(policy, state, options.now);
  } catch (error) {
    log('error', error instanceof UpkeepRefusal ? error.message : explain(error, policy));
    return { exitCode: 1 };
  }
  for (const note of planned.notes) log('info', note);
  for (const problem of planned.problems) log('error', problem);

  if (planned.writes.length === 0) {
    log('info', dryRun ? 'dry run: nothing would change' : 'nothing to change');
    return { exitCode: planned.problems.length > 0 ? 1 : 0, plan: planned };
  }

  // Every permission first: an identity that may make only some of the writes makes none.
  const missing: string[] = [];
  for (const write of planned.writes) {
    const { what, ...attributes } = permissionFor(write, policy);
    try {
      if (!(await api.allowed(attributes))) missing.push(what);
    } catch (error) {
      log('error', explain(error, policy));
      return { exitCode: 1, plan: planned };
    }
  }
  if (missing.length > 0) {
    log(
      'error',
      `no permission (RBAC) to ${missing.join(', ')}: nothing changed; grant the Role and ClusterRole of deploy/cert-upkeep/ (see docs/certificates.md)`,
    );
    return { exitCode: 1, plan: planned };
  }

  for (const write of planned.writes) {
    const target =
      write.kind === 'secret'
        ? `Secret ${policy.namespace}/${write.name}`
        : `${write.ref.kind} ${write.ref.name}`;
    if (dryRun) {
      log(
        'info',
        `dry run: would ${write.kind === 'secret' ? (write.create ? 'create' : 'update') : 'patch'} ${target}: ${write.why}`,
      );
      continue;
    }
    try {
      if (write.kind === 'secret') {
        const body = secretBody(policy, write);
        if (write.create) await api.create(secretPath(policy.namespace), target, body);
        else await api.update(secretPath(policy.namespace, write.name), target, body);
        log('info', `${write.create ? 'created' : 'updated'} ${target}: ${write.why}`);
      } else {
        await api.jsonPatch(configurationPath(write.ref), target, write.operations);
        log('info', `patched ${target}: ${write.why}`);
      }
    } catch (error) {
      // Later writes depend on this one (a bundle on the Secret that keeps its CA): stop here.
      log('error', `${explain(error, policy)}; the writes after it were not made`);
      return { exitCode: 1, plan: planned };
    }
  }
  return { exitCode: planned.problems.length > 0 ? 1 : 0, plan: planned };
}
