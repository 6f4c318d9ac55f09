// The pod a workload's controller would create, as the apiserver hands it to the webhooks:
// the template, the controller's labels, owner and name, and the defaults admission adds.
// Hashes and uids are stand-ins (the controllers hash Go structs); they have the real shapes.
import { createHash, randomUUID } from 'node:crypto';
import type { KubernetesObject } from '../../shared/review.ts';
import { fail } from '../errors.ts';
import { admitPod, defaultPodSpec } from './defaults.ts';
import { splitApiVersion } from './kinds.ts';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

export interface BuiltPod {
  readonly pod: KubernetesObject;
  /** Who creates it: the controller's service account. */
  readonly user: string;
  /** The workloads in between, outermost first (Service -> Configuration -> Revision -> ...). */
  readonly chain: readonly string[];
}

/** The kinds `--pod` understands, by group. */
export const WORKLOAD_KINDS = [
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'Job',
  'CronJob',
  'Service.serving.knative.dev',
  'Configuration.serving.knative.dev',
  'Revision.serving.knative.dev',
];

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** A name suffix of the apiserver's alphabet (k8s.io/apimachinery/pkg/util/rand.SafeEncodeString). */
export function safeString(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += SAFE_ALPHABET[(digest[i] ?? 0) % SAFE_ALPHABET.length];
  return out;
}

/** The pod-template-hash shape: up to 10 characters of the safe alphabet. */
function templateHash(template: unknown): string {
  return safeString(JSON.stringify(template ?? null), 10);
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function meta(object: Json): Json {
  return isObject(object.metadata) ? object.metadata : {};
}

function nameOf(object: Json, label: string): string {
  const name = meta(object).name;
  if (typeof name !== 'string' || name === '') fail(`${label}: metadata.name is required to build its pod`);
  return name;
}

function uidOf(object: Json): string {
  const uid = meta(object).uid;
  return typeof uid === 'string' && uid ? uid : randomUUID();
}

function templateOf(spec: unknown, field: string): Json {
  const template = isObject(spec) ? spec.template : undefined;
  if (!isObject(template) || !isObject(template.spec)) fail(`${field}.template.spec is missing`);
  return clone(template);
}

function owner(apiVersion: string, kind: string, name: string, uid: string): Json {
  return { apiVersion, kind, name, uid, controller: true, blockOwnerDeletion: true };
}

interface Step {
  readonly template: Json;
  readonly namespace: string | undefined;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly name?: string;
  readonly generateName?: string;
  readonly owner: Json;
  readonly user: string;
  readonly chain: string[];
}

function podOf(step: Step, tokenSeed: string): BuiltPod {
  const metadata = meta(step.template);
  const labels = { ...(metadata.labels as Record<string, string> | undefined), ...step.labels };
  const annotations = {
    ...(metadata.annotations as Record<string, string> | undefined),
    ...step.annotations,
  };
  const pod: Json = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(step.name ? { name: step.name } : { generateName: step.generateName }),
      ...(step.namespace && { namespace: step.namespace }),
      creationTimestamp: null,
      labels,
      ...(Object.keys(annotations).length > 0 && { annotations }),
      ownerReferences: [step.owner],
    },
    spec: clone(step.template.spec),
    status: {},
  };
  admitPod(pod, `kube-api-access-${safeString(tokenSeed, 5)}`);
  return { pod: pod as KubernetesObject, user: step.user, chain: step.chain };
}

const controller = (name: string) => `system:serviceaccount:kube-system:${name}`;

function fromReplicaSet(rs: Json, chain: string[]): Step {
  const name = nameOf(rs, 'ReplicaSet');
  return {
    template: templateOf(rs.spec, 'ReplicaSet spec'),
    namespace: meta(rs).namespace as string | undefined,
    labels: {},
    generateName: `${name}-`,
    owner: owner('apps/v1', 'ReplicaSet', name, uidOf(rs)),
    user: controller('replicaset-controller'),
    chain: [...chain, `ReplicaSet/${name}`],
  };
}

/** The ReplicaSet a Deployment's controller makes: the template with pod-template-hash. */
function replicaSetOf(deployment: Json, chain: string[]): { rs: Json; chain: string[] } {
  const name = nameOf(deployment, 'Deployment');
  const template = templateOf(deployment.spec, 'Deployment spec');
  // The hash is of the template as stored (defaulted), as the controller computes it.
  defaultPodSpec(template.spec as Json);
  const hash = templateHash(template);
  const templateMeta = meta(template);
  templateMeta.labels = {
    ...(templateMeta.labels as Record<string, string> | undefined),
    'pod-template-hash': hash,
  };
  template.metadata = templateMeta;
  const rs: Json = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: `${name}-${hash}`, namespace: meta(deployment).namespace, uid: randomUUID() },
    spec: { template },
  };
  return { rs, chain: [...chain, `Deployment/${name}`] };
}

function fromStatefulSet(sts: Json): Step {
  const name = nameOf(sts, 'StatefulSet');
  const spec = isObject(sts.spec) ? sts.spec : {};
  const template = templateOf(spec, 'StatefulSet spec');
  const podName = `${name}-0`;
  const podSpec = template.spec as Json;
  podSpec.hostname = podName;
  if (typeof spec.serviceName === 'string' && spec.serviceName) podSpec.subdomain = spec.serviceName;
  // Each volumeClaimTemplate becomes a claim named <template>-<pod> and a volume of that claim.
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates.filter(isObject) : [];
  const volumes = Array.isArray(podSpec.volumes) ? (podSpec.volumes as Json[]) : [];
  for (const claim of claims) {
    const claimName = meta(claim).name;
    if (typeof claimName !== 'string') continue;
    const volume = { name: claimName, persistentVolumeClaim: { claimName: `${claimName}-${podName}` } };
    const at = volumes.findIndex((v) => v.name === claimName);
    if (at >= 0) volumes[at] = volume;
    else volumes.push(volume);
  }
  if (volumes.length > 0) podSpec.volumes = volumes;
  return {
    template,
    namespace: meta(sts).namespace as string | undefined,
    labels: {
      'controller-revision-hash': `${name}-${templateHash(template)}`,
      'statefulset.kubernetes.io/pod-name': podName,
      'apps.kubernetes.io/pod-index': '0',
    },
    name: podName,
    owner: owner('apps/v1', 'StatefulSet', name, uidOf(sts)),
    user: controller('statefulset-controller'),
    chain: [`StatefulSet/${name}`],
  };
}

function fromJob(job: Json, chain: string[]): Step {
  const name = nameOf(job, 'Job');
  const uid = uidOf(job);
  const template = templateOf(job.spec, 'Job spec');
  return {
    template,
    namespace: meta(job).namespace as string | undefined,
    labels: {
      'controller-uid': uid,
      'job-name': name,
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': name,
    },
    annotations: { 'batch.kubernetes.io/job-completion-index': '0' },
    generateName: `${name}-`,
    owner: owner('batch/v1', 'Job', name, uid),
    user: controller('job-controller'),
    chain: [...chain, `Job/${name}`],
  };
}

function jobOfCronJob(cronJob: Json): { job: Json; chain: string[] } {
  const name = nameOf(cronJob, 'CronJob');
  const spec = isObject(cronJob.spec) ? cronJob.spec : {};
  const jobTemplate = isObject(spec.jobTemplate)
    ? clone(spec.jobTemplate)
    : fail('CronJob spec.jobTemplate is missing');
  // Jobs of a CronJob are named after the scheduled time in minutes since the epoch.
  const minutes = Math.floor(Date.now() / 60_000);
  const job: Json = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { ...meta(jobTemplate), name: `${name}-${minutes}`, namespace: meta(cronJob).namespace },
    spec: jobTemplate.spec,
  };
  return { job, chain: [`CronJob/${name}`] };
}

/** Knative names: Configuration = Service, Revision = <configuration>-00001 unless the template names it. */
function knativeRevisionOf(object: Json, kind: string): { revision: Json; labels: Record<string, string> } {
  const name = nameOf(object, kind);
  const namespace = meta(object).namespace;
  const labels: Record<string, string> = {};
  const configurationName = name;
  const spec = isObject(object.spec) ? object.spec : {};
  if (kind === 'Service' || kind === 'Configuration') {
    if (kind === 'Service') {
      labels['serving.knative.dev/service'] = name;
      labels['serving.knative.dev/serviceUID'] = uidOf(object);
    }
    labels['serving.knative.dev/configuration'] = configurationName;
    labels['serving.knative.dev/configurationUID'] = kind === 'Configuration' ? uidOf(object) : randomUUID();
    labels['serving.knative.dev/configurationGeneration'] = '1';
    const template = templateOf(spec, `${kind} spec`);
    const revisionName = (meta(template).name as string | undefined) || `${configurationName}-00001`;
    const revision: Json = {
      apiVersion: 'serving.knative.dev/v1',
      kind: 'Revision',
      metadata: {
        ...meta(template),
        name: revisionName,
        namespace,
        uid: randomUUID(),
      },
      spec: template.spec,
    };
    return { revision, labels };
  }
  // A Revision on its own: its labels say which configuration and service it belongs to.
  const own = (meta(object).labels as Record<string, string> | undefined) ?? {};
  for (const [key, value] of Object.entries(own))
    if (key.startsWith('serving.knative.dev/')) labels[key] = value;
  return { revision: object, labels };
}

const QUEUE_IMAGE = 'gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.16';

/** The pod of a Knative revision: its Deployment's template as Knative's revision reconciler writes it. */
function fromKnative(object: Json, kind: string): Step {
  const { revision, labels } = knativeRevisionOf(object, kind);
  const revisionName = nameOf(revision, 'Revision');
  const namespace = (meta(object).namespace as string | undefined) ?? 'default';
  const revisionMeta = meta(revision);
  const spec = clone(isObject(revision.spec) ? revision.spec : {}) as Json;
  const containers = Array.isArray(spec.containers) ? (spec.containers as Json[]) : [];
  if (containers.length === 0) fail(`${kind} spec.template.spec.containers is empty`);
  const service = labels['serving.knative.dev/service'] ?? '';
  const configuration = labels['serving.knative.dev/configuration'] ?? '';
  const timeout = typeof spec.timeoutSeconds === 'number' ? spec.timeoutSeconds : 300;
  // The container with a port (or the only one) serves; Knative names it user-container when unnamed.
  const serving = containers.find((c) => Array.isArray(c.ports) && c.ports.length > 0) ?? containers[0];
  const port = Number((serving?.ports as Json[] | undefined)?.[0]?.containerPort ?? 8080);
  const userContainers = containers.map((container, index) => {
    const c = clone(container);
    const isServing = container === serving;
    if (!c.name) c.name = isServing ? 'user-container' : `sidecar-container-${index}`;
    if (isServing) {
      c.ports = [{ name: 'user-port', containerPort: port, protocol: 'TCP' }];
      c.env = [
        ...(Array.isArray(c.env) ? c.env : []),
        { name: 'PORT', value: String(port) },
        { name: 'K_REVISION', value: revisionName },
        { name: 'K_CONFIGURATION', value: configuration },
        { name: 'K_SERVICE', value: service },
      ];
      c.lifecycle = { preStop: { httpGet: { path: '/wait-for-drain', port: 8022, scheme: 'HTTP' } } };
    }
    c.terminationMessagePolicy ??= 'FallbackToLogsOnError';
    // Knative drops the user's probes from the pod (queue-proxy probes on its behalf).
    delete c.readinessProbe;
    return c;
  });
  const queueProxy: Json = {
    name: 'queue-proxy',
    image: QUEUE_IMAGE,
    ports: [
      { name: 'http-queueadm', containerPort: 8022, protocol: 'TCP' },
      { name: 'http-autometric', containerPort: 9090, protocol: 'TCP' },
      { name: 'http-usermetric', containerPort: 9091, protocol: 'TCP' },
      { name: 'queue-port', containerPort: 8012, protocol: 'TCP' },
      { name: 'https-port', containerPort: 8112, protocol: 'TCP' },
    ],
    env: [
      ['SERVING_NAMESPACE', namespace],
      ['SERVING_SERVICE', service],
      ['SERVING_CONFIGURATION', configuration],
      ['SERVING_REVISION', revisionName],
      ['QUEUE_SERVING_PORT', '8012'],
      ['QUEUE_SERVING_TLS_PORT', '8112'],
      ['CONTAINER_CONCURRENCY', String(spec.containerConcurrency ?? 0)],
      ['REVISION_TIMEOUT_SECONDS', String(timeout)],
      ['USER_PORT', String(port)],
      ['SYSTEM_NAMESPACE', 'knative-serving'],
      ['METRICS_DOMAIN', 'knative.dev/internal/serving'],
      [
        'SERVING_READINESS_PROBE',
        JSON.stringify({ tcpSocket: { port, host: '127.0.0.1' }, successThreshold: 1 }),
      ],
      ['ENABLE_PROFILING', 'false'],
    ].map(([name, value]) => ({ name, value })),
    resources: { requests: { cpu: '25m' } },
    readinessProbe: {
      httpGet: { port: 8012, scheme: 'HTTP', httpHeaders: [{ name: 'K-Network-Probe', value: 'queue' }] },
    },
    securityContext: {
      capabilities: { drop: ['ALL'] },
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
  const podSpec: Json = {
    ...spec,
    containers: [...userContainers, queueProxy],
    terminationGracePeriodSeconds: timeout,
    enableServiceLinks: spec.enableServiceLinks ?? false,
  };
  for (const key of [
    'containerConcurrency',
    'timeoutSeconds',
    'responseStartTimeoutSeconds',
    'idleTimeoutSeconds',
  ])
    delete podSpec[key];
  const revisionUid = uidOf(revision);
  const deployment = `${revisionName}-deployment`;
  const template: Json = { metadata: {}, spec: podSpec };
  const hash = templateHash(template);
  const annotations = { ...(revisionMeta.annotations as Record<string, string> | undefined) };
  annotations['serving.knative.dev/creator'] ??= 'kubernetes-admin';
  return {
    template: { metadata: { labels: revisionMeta.labels ?? {} }, spec: podSpec },
    namespace,
    labels: {
      ...labels,
      'serving.knative.dev/revision': revisionName,
      'serving.knative.dev/revisionUID': revisionUid,
      app: revisionName,
      'pod-template-hash': hash,
    },
    annotations,
    generateName: `${deployment}-${hash}-`,
    owner: owner('apps/v1', 'ReplicaSet', `${deployment}-${hash}`, randomUUID()),
    user: controller('replicaset-controller'),
    chain: [
      `${kind}/${nameOf(object, kind)}`,
      `Revision/${revisionName}`,
      `Deployment/${deployment}`,
      `ReplicaSet/${deployment}-${hash}`,
    ],
  };
}

/** The pod a controller would create from `workload`. */
export function podFromWorkload(workload: KubernetesObject): BuiltPod {
  const object = workload as Json;
  const kind = String(object.kind ?? '');
  const { group } = splitApiVersion(String(object.apiVersion ?? ''));
  const seed = JSON.stringify(meta(object).name ?? '');
  if (group === 'apps' && kind === 'Deployment') {
    const { rs, chain } = replicaSetOf(object, []);
    return podOf(fromReplicaSet(rs, chain), seed);
  }
  if (group === 'apps' && kind === 'ReplicaSet') return podOf(fromReplicaSet(object, []), seed);
  if (group === 'apps' && kind === 'StatefulSet') return podOf(fromStatefulSet(object), seed);
  if (group === 'batch' && kind === 'Job') return podOf(fromJob(object, []), seed);
  if (group === 'batch' && kind === 'CronJob') {
    const { job, chain } = jobOfCronJob(object);
    return podOf(fromJob(job, chain), seed);
  }
  if (group === 'serving.knative.dev' && ['Service', 'Configuration', 'Revision'].includes(kind))
    return podOf(fromKnative(object, kind), seed);
  fail(
    `--pod: ${kind || 'an object without kind'} (${object.apiVersion}) is not a workload (known: ${WORKLOAD_KINDS.join(', ')})`,
  );
}
