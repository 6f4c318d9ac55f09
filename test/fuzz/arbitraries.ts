// Generated and mutated AdmissionReviews for the fuzz run: shaped like what the apiserver
// sends (pods, Knative Services, other objects), then broken in the ways people and tools
// break them: annotations with wrong JSON, wrong types, huge arrays, deep nesting, unicode,
// `~` and `/` in names and keys, prototype-pollution keys; envelopes with fields missing or
// of the wrong type; bodies that are not JSON at all.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { VOLUME_SOURCES } from '../../shared/k8s/volumes.ts';
import { projectRoot, sharedDir } from '../support/apiserver.ts';

// biome-ignore lint/suspicious/noExplicitAny: generated JSON is edited freely
type Json = any;

const PREFIX = 'knative.netease.dev';
export const ANNOTATION_KEYS = [`${PREFIX}/volumes`, `${PREFIX}/volumeMounts`, `${PREFIX}/nodeSelector`];

const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));
const fixtures = [
  'knative-pod-netease-annotations.v1.json',
  'knative-pod-netease-annotations.v1beta1.json',
  'knative-pod-netease-annotations.dryrun.v1.json',
  'plain-pod-no-labels.v1.json',
].map((name) => readJson(join(sharedDir, 'fixtures', name)));
const services = [
  'create-good.v1.json',
  'create-hostpath-outside-policy.v1.json',
  'create-broken-annotations.v1.json',
  'update-nodeselector-conflict.v1.json',
].map((name) => readJson(join(projectRoot, 'samples', 'knative-service', name)));
// The other functions' own samples: nodes, pods opting in to a sidecar, images to mirror.
const others = [
  'sidecar-injection/pod.json',
  'sidecar-injection/pod-annotated-true.json',
  'sidecar-injection/pod-conflict.json',
  'image-mirror/pod.json',
  'image-mirror/ephemeral-container.json',
  'config-volume/hello-pod.json',
  'node-oversale/first-heartbeat.json',
  'node-oversale/kubelet-heartbeat.json',
  'node-oversale/node-problem-detector.json',
  'deployment.json',
].map((name) => readJson(join(projectRoot, 'samples', name)));
const baseReviews: readonly Json[] = [...fixtures, ...services, ...others];

/** Keys that break naive code: prototype pollution, JSON-pointer escapes, paths, empties. */
const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  '~',
  '~0',
  '~1',
  '/',
  'a/b',
  'a~b',
  'a~1b',
  '~/~/',
  '',
  ' ',
  '.',
  '..',
  '-',
  '0',
  'length',
  'kubernetes.io/arch',
  'example.com/x~y',
  'é',
  '💥',
  '\u0000',
  '\ud800',
  'x'.repeat(300),
];

const nastyString = fc.oneof(
  fc.constantFrom(...NASTY_KEYS),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.stringMatching(/^[a-z0-9.~-]{0,12}\/[a-zA-Z0-9_.~/-]{0,12}$/),
);

const labelish = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,20}[a-z0-9])?$/);
const name = fc.oneof({ weight: 4, arbitrary: labelish }, { weight: 1, arbitrary: nastyString });

const smallJson = fc.jsonValue({ maxDepth: 3 });

const hostPathPath = fc.oneof(
  fc.constantFrom(
    '/usr/local/nagent4docker',
    '/usr/local/nagent4docker/',
    '//usr/local/nagent4docker',
    '/usr/local/nagent4docker/scripts',
    '/usr/local/nagent4docker-evil',
    '/usr/local/nagent4docker/../../etc',
    '/usr/local/nagent4docker/./x',
    '/usr/local/nagent',
    '/',
    '/etc',
    '/var/run/docker.sock',
    'usr/local',
    '',
    '..',
  ),
  fc.string({ maxLength: 20 }).map((s) => `/usr/local/nagent4docker/${s}`),
  fc.string({ maxLength: 20 }),
);

const hostPathType = fc.constantFrom(
  undefined,
  '',
  'Directory',
  'DirectoryOrCreate',
  'File',
  'Socket',
  'BlockDevice',
  'directory',
  7,
);

// Names from a small pool, so mounts find their volumes and volumes meet the pod's own.
const volumeName = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('script-vol', 'data', 'cache', 'cfg') },
  { weight: 1, arbitrary: fc.constant('kube-api-access-7x2kq') },
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/) },
  { weight: 1, arbitrary: nastyString },
);

/** Volumes every check lets through (under the sample policy), so patches get made and judged. */
const goodVolume: fc.Arbitrary<Json> = fc.oneof(
  fc.record({
    name: volumeName,
    hostPath: fc.record(
      {
        path: fc.constantFrom('/usr/local/nagent4docker', '/usr/local/nagent4docker/scripts'),
        type: fc.constantFrom('', 'Directory'),
      },
      { requiredKeys: ['path'] },
    ),
  }),
  fc.record({ name: volumeName, emptyDir: fc.constantFrom({}, { medium: 'Memory', sizeLimit: '64Mi' }) }),
  fc.record({ name: volumeName, configMap: fc.record({ name: labelish }) }),
  fc.record({
    name: volumeName,
    secret: fc.record({ secretName: labelish, defaultMode: fc.constant(0o400) }),
  }),
);

const goodMount: fc.Arbitrary<Json> = fc.record(
  {
    name: volumeName,
    mountPath: fc.constantFrom('/usr/local/nagent', '/data', '/cache', '/etc/app', '/token'),
    readOnly: fc.constantFrom(true, true, false),
    subPath: fc.constantFrom('x', 'a/b'),
  },
  { requiredKeys: ['name', 'mountPath'] },
);

/** One volume: mostly plausible, sometimes wrong in one field, sometimes junk. */
const volume: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: goodVolume },
  {
    weight: 3,
    arbitrary: fc.record({ name, hostPath: fc.record({ path: hostPathPath, type: hostPathType }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ name, emptyDir: fc.constantFrom({}, { medium: 'Memory' }, null, 'x') }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      name,
      configMap: fc.record({ name: name, defaultMode: fc.oneof(fc.integer(), fc.constant(420)) }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(name, fc.constantFrom(...VOLUME_SOURCES), smallJson)
      .map(([n, source, value]) => ({ name: n, [source]: value })),
  },
  { weight: 1, arbitrary: fc.dictionary(nastyString, smallJson, { maxKeys: 4 }) },
  { weight: 1, arbitrary: smallJson },
);

const mount: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: goodMount },
  {
    weight: 4,
    arbitrary: fc.record(
      {
        name,
        mountPath: fc.oneof(
          fc.constantFrom('/usr/local/nagent', '/data', 'data', '/'),
          fc.string({ maxLength: 10 }),
        ),
        readOnly: fc.constantFrom(true, false, 'true', undefined),
        subPath: fc.constantFrom('x', '../etc', '/abs', 'a/../..'),
        mountPropagation: fc.constantFrom('None', 'Bidirectional', 'Sideways'),
      },
      { requiredKeys: ['name', 'mountPath'] },
    ),
  },
  { weight: 1, arbitrary: fc.dictionary(nastyString, smallJson, { maxKeys: 4 }) },
  { weight: 1, arbitrary: smallJson },
);

const goodNodeSelector = fc.dictionary(
  fc.constantFrom('disktype', 'kubernetes.io/arch', 'topology.kubernetes.io/zone', 'gpu'),
  fc.constantFrom('ssd', 'amd64', 'arm64', 'zone-a', 'true'),
);

/** Names of built-in object properties, valid as label keys: must be keys like any other. */
export const PROTOTYPE_KEYS = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

/**
 * nodeSelector keys of every class the node-selector policy decides on: the well-known
 * scheduling labels, keys that pick one node or that only admins may set (and near misses of
 * them), the platform's own, names of built-in object properties, and random keys.
 */
export const nodeSelectorKey: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'kubernetes.io/arch',
    'kubernetes.io/os',
    'topology.kubernetes.io/zone',
    'topology.kubernetes.io/region',
    'node.kubernetes.io/instance-type',
  ),
  fc.constantFrom('kubernetes.io/hostname', 'kubernetes.io/hostnames', 'kubernetes.io/os-version'),
  fc
    .tuple(
      fc.constantFrom(
        'node-restriction.kubernetes.io/',
        'node-role.kubernetes.io/',
        'kubernetes.io/',
        'k8s.io/',
        'node.kubernetes.io/',
        'topology.kubernetes.io/',
        `${PREFIX}/`,
        `sub.${PREFIX}/`,
        'example.com/',
        '',
      ),
      fc.oneof(labelish, fc.constantFrom(...PROTOTYPE_KEYS)),
    )
    .map(([prefix, name]) => prefix + name),
  fc.constantFrom(...PROTOTYPE_KEYS),
);

/** Label values (valid ones mostly, so that the key decides). */
export const labelValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,10}[a-z0-9])?$/) },
  { weight: 1, arbitrary: fc.constant('') },
);

/** A nodeSelector annotation's object: keys of every class, label values. */
export const policedNodeSelector: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  nodeSelectorKey,
  labelValue,
  { minKeys: 1, maxKeys: 4 },
);

const nodeSelector: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.dictionary(fc.oneof(labelish, nastyString), fc.oneof(labelish, nastyString)) },
  { weight: 2, arbitrary: policedNodeSelector },
  { weight: 1, arbitrary: fc.dictionary(nastyString, smallJson, { maxKeys: 4 }) },
  { weight: 1, arbitrary: smallJson },
);

/** Nesting `depth` levels deep: bare, or inside a volume source or field the schemas let through. */
const deeplyNested = fc
  .tuple(
    fc.integer({ min: 100, max: 20_000 }),
    fc.constantFrom(
      { open: '[', close: ']', head: '', tail: '' },
      { open: '{"a":', close: '}', head: '', tail: '' },
      { open: '{"a":', close: '}', head: '[{"name":"deep","csi":', tail: '}]' },
      { open: '[', close: ']', head: '[{"name":"deep","csi":{"volumeAttributes":', tail: '}}]' },
      { open: '{"a":', close: '}', head: '{"disktype":', tail: '}' },
    ),
  )
  .map(
    ([depth, { open, close, head, tail }]) => `${head}${open.repeat(depth)}1${close.repeat(depth)}${tail}`,
  );

const hugeArray = fc
  .tuple(fc.integer({ min: 500, max: 3_000 }), fc.boolean())
  .map(([n, distinct]) =>
    JSON.stringify(
      Array.from({ length: n }, (_, i) => ({ name: distinct ? `v${i}` : 'same', emptyDir: {} })),
    ),
  );

const POLLUTION = [
  '{"__proto__":{"polluted":"yes"}}',
  '[{"__proto__":{"polluted":"yes"},"name":"x","emptyDir":{}}]',
  '[{"name":"x","__proto__":{"hostPath":{"path":"/"}}}]',
  '[{"name":"x","constructor":{"prototype":{"polluted":"yes"}}}]',
  '[{"name":"x","emptyDir":{"__proto__":{"polluted":"yes"}}}]',
  '[{"name":"x","mountPath":"/x","__proto__":{"readOnly":true}}]',
  '{"constructor":{"prototype":{"polluted":"yes"}}}',
];

/** Sets an own property, even one named __proto__ (plain assignment would set the prototype). */
function defineOwn(object: object, key: PropertyKey, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** What an annotation value can be: JSON of the right shape, or anything else. */
function annotationValue(
  item: fc.Arbitrary<Json>,
  shape: 'array' | 'object',
  good: fc.Arbitrary<Json> = item,
): fc.Arbitrary<string> {
  const valid = shape === 'array' ? fc.array(item, { maxLength: 4 }) : item;
  const allGood = shape === 'array' ? fc.array(good, { minLength: 1, maxLength: 3 }) : good;
  // Big payloads (deep, huge) are rare enough that the run stays quick and still sends
  // thousands of them in 100,000 bodies.
  return fc.oneof(
    { weight: 50, arbitrary: allGood.map((v) => JSON.stringify(v)) },
    { weight: 50, arbitrary: valid.map((v) => JSON.stringify(v) ?? 'null') },
    { weight: 8, arbitrary: valid.chain((v) => truncated(JSON.stringify(v) ?? '')) },
    { weight: 8, arbitrary: smallJson.map((v) => JSON.stringify(v)) },
    { weight: 8, arbitrary: fc.string({ maxLength: 30 }) },
    { weight: 8, arbitrary: fc.constantFrom(...POLLUTION) },
    { weight: 1, arbitrary: deeplyNested },
    { weight: 1, arbitrary: hugeArray },
  );
}

function truncated(text: string): fc.Arbitrary<string> {
  return fc.nat({ max: Math.max(0, text.length - 1) }).map((n) => text.slice(0, n));
}

/** Volumes and the mounts of some of them, consistent with each other, as people write them. */
const coherentVolumes: fc.Arbitrary<Record<string, string>> = fc
  .uniqueArray(fc.tuple(volumeName, goodVolume), { minLength: 1, maxLength: 4, selector: ([n]) => n })
  .chain((named) =>
    fc.subarray(named.map(([n]) => n)).map((mounted) => ({
      volumes: JSON.stringify(named.map(([n, volume]) => ({ ...volume, name: n }))),
      volumeMounts: JSON.stringify(
        mounted.map((n, i) => ({ name: n, mountPath: `/mnt/${i}`, readOnly: true })),
      ),
    })),
  );

const annotations: fc.Arbitrary<Record<string, Json>> = fc
  .record(
    {
      volumes: annotationValue(volume, 'array', goodVolume),
      volumeMounts: annotationValue(mount, 'array', goodMount),
      nodeSelector: annotationValue(nodeSelector, 'object', goodNodeSelector),
      coherent: fc.oneof(fc.constant(undefined), coherentVolumes),
      other: fc.dictionary(
        nastyString,
        fc.oneof(
          fc.string(),
          smallJson.map((v) => JSON.stringify(v)),
        ),
        {
          maxKeys: 3,
        },
      ),
    },
    { requiredKeys: ['other', 'coherent'] },
  )
  .map(({ volumes, volumeMounts, nodeSelector: selector, coherent, other }) => {
    const out: Record<string, Json> = {};
    for (const [key, value] of Object.entries(other)) defineOwn(out, key, value);
    if (coherent)
      Object.assign(out, {
        [`${PREFIX}/volumes`]: coherent.volumes,
        [`${PREFIX}/volumeMounts`]: coherent.volumeMounts,
      });
    if (volumes !== undefined && !coherent) out[`${PREFIX}/volumes`] = volumes;
    if (volumeMounts !== undefined && !coherent) out[`${PREFIX}/volumeMounts`] = volumeMounts;
    if (selector !== undefined) out[`${PREFIX}/nodeSelector`] = selector;
    return out;
  });

/**
 * Quantities past what the limits allow or right at them: many digits, many trailing zeros,
 * huge exponents. Edits drop them where quantities live (resources, allocatable, capacity),
 * and anywhere else: no parser may take time that grows faster than the text.
 */
const hostileQuantity: fc.Arbitrary<string> = fc.oneof(
  fc.nat({ max: 20_000 }).map((n) => `1${'0'.repeat(n)}`),
  fc.nat({ max: 20_000 }).map((n) => `0.${'0'.repeat(n)}1`),
  fc.constantFrom(
    '9'.repeat(56),
    '9'.repeat(57),
    `${'9'.repeat(56)}e1000`,
    '1e1001',
    '1e-1000',
    `${'7'.repeat(56)}Ei`,
  ),
);

/** A random edit somewhere in a JSON document: walk `steps` down, then act. */
interface Edit {
  steps: number[];
  action: 'delete' | 'replace' | 'wrap' | 'stringify' | 'nullify';
  value: Json;
  /** Where the walk starts: anywhere in the review, or inside the object's metadata, spec or status. */
  root: 'review' | 'metadata' | 'spec' | 'status';
}
const edit: fc.Arbitrary<Edit> = fc.record({
  steps: fc.array(fc.nat(), { maxLength: 7 }),
  action: fc.constantFrom('delete', 'replace', 'wrap', 'stringify', 'nullify'),
  value: fc.oneof(
    { weight: 8, arbitrary: smallJson },
    { weight: 4, arbitrary: fc.constantFrom(...NASTY_KEYS) },
    { weight: 1, arbitrary: hostileQuantity },
  ),
  root: fc.oneof(
    { weight: 1, arbitrary: fc.constant('review' as const) },
    { weight: 4, arbitrary: fc.constant('metadata' as const) },
    { weight: 11, arbitrary: fc.constant('spec' as const) },
    { weight: 2, arbitrary: fc.constant('status' as const) },
  ),
});

function applyEdit(document: Json, { steps, action, value }: Edit): void {
  let parent: Json;
  let key: string | number | undefined;
  let node = document;
  for (const step of steps) {
    if (node === null || typeof node !== 'object') break;
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    if (keys.length === 0) break;
    parent = node;
    key = keys[step % keys.length] as string | number;
    node = node[key];
  }
  if (parent === undefined || key === undefined) return;
  const set = (v: Json) => defineOwn(parent, key as PropertyKey, v);
  if (action === 'delete') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else if (action === 'replace') set(value);
  else if (action === 'wrap') set([node]);
  else if (action === 'stringify') set(JSON.stringify(node) ?? '');
  else set(null);
}

const target = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...fixtures) },
  { weight: 3, arbitrary: fc.constantFrom(...services) },
  { weight: 3, arbitrary: fc.constantFrom(...others) },
);

/** A review built on a real one: new annotations, labels, envelope fields, then random edits. */
const shapedReview: fc.Arbitrary<Json> = fc
  .record({
    base: target,
    annotations,
    labels: fc.option(
      fc.dictionary(fc.oneof(labelish, nastyString), fc.oneof(labelish, nastyString), { maxKeys: 4 }),
    ),
    uid: fc.oneof(
      fc.uuid(),
      nastyString.filter((s) => s.length > 0),
    ),
    namespace: fc.option(
      fc.oneof(labelish, fc.constantFrom('nfaas-demo', 'sandbox-1', 'team-a'), nastyString),
    ),
    operation: fc.constantFrom(
      'CREATE',
      'CREATE',
      'CREATE',
      'CREATE',
      'UPDATE',
      'UPDATE',
      'DELETE',
      'CONNECT',
    ),
    edits: fc.array(edit, { maxLength: 3 }),
  })
  .map(({ base, annotations: notes, labels, uid, namespace, operation, edits }) => {
    const reviewed = structuredClone(base);
    const request = reviewed.request;
    request.uid = uid;
    request.operation = operation;
    if (namespace !== null) request.namespace = namespace;
    const isService = request.resource?.resource === 'services';
    const holder = isService ? request.object.spec.template.metadata : request.object.metadata;
    // The base's own annotations (a sidecar opt-in, the fixture's volumes) stay unless replaced.
    holder.annotations = Object.assign(structuredClone(holder.annotations ?? {}), notes);
    if (labels !== null) request.object.metadata.labels = labels;
    if (operation === 'UPDATE' && !request.oldObject)
      request.oldObject = structuredClone(base.request.object);
    // Most edits land in the object's spec and metadata, where the functions read; some
    // anywhere (the envelope, apiVersion, the whole object).
    for (const e of edits) {
      const root = e.root === 'review' ? undefined : request.object?.[e.root];
      if (e.root === 'review') applyEdit(reviewed, e);
      else if (root && typeof root === 'object') applyEdit({ root }, { ...e, steps: [0, ...e.steps] });
    }
    return reviewed;
  });

/** Envelopes the webhook must refuse with a 4xx: wrong types, missing fields, junk. */
const brokenEnvelope: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.constantFrom(...baseReviews).chain((base) =>
    fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
      const copy = structuredClone(base);
      for (const e of edits) applyEdit(copy, e);
      return copy;
    }),
  ),
);

/** Bodies: mostly reviews shaped like the apiserver's, some broken envelopes, some not JSON. */
export const fuzzBody: fc.Arbitrary<string> = fc.oneof(
  { weight: 16, arbitrary: shapedReview.map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: brokenEnvelope.map((r) => JSON.stringify(r) ?? '') },
  { weight: 1, arbitrary: shapedReview.chain((r) => truncated(JSON.stringify(r))) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

/**
 * Label values a client may have written beforehand on a label the webhook fills from the
 * request (a forged `created-by`): anything valid, or the value some other request would give.
 */
export const presetProvenanceValue: fc.Arbitrary<string> = fc.oneof(
  labelValue,
  fc.constantFrom('alice', 'system-serviceaccount-kube-system-replicaset-controller', 'admin', 'kube-system'),
);

/** Who sends a request, as userInfo.username: people, ServiceAccounts, controllers, odd names. */
export const requestUser: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('alice@example.com', 'system:serviceaccount:shop:deployer', 'system:node:worker-1'),
  fc.string({ maxLength: 80 }),
);

const cpuQuantity: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -20_000, max: 200_000 }).map((n) => `${n}m`),
  fc.constantFrom('8', '7800m', '0', '-1', '1e3', '1000000', '0.5'),
);
const memoryQuantity: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: -1_000_000, max: 100_000_000 }).map((n) => `${n}Ki`),
  fc.constantFrom('32779400Ki', '31628424Ki', '0', '-1Gi', '1Ei', '17179869184', '129e6'),
);

/**
 * A node's status as a status update carries it, with the node-oversale record an attacker
 * may have written: capacity and allocatable as reported, and a record whose numbers are
 * anything (negative, huge, far from capacity), its `oversold` often equal to the allocatable
 * so that the record is taken for this webhook's own.
 */
export const forgedOversaleStatus = fc
  .record({
    capacity: fc.record({ cpu: cpuQuantity, memory: memoryQuantity }),
    allocatable: fc.record({ cpu: cpuQuantity, memory: memoryQuantity }),
    kubelet: fc.record({ cpu: cpuQuantity, memory: memoryQuantity }),
    otherKubelet: fc.record({ cpu: cpuQuantity, memory: memoryQuantity }),
    oversold: fc.option(fc.record({ cpu: cpuQuantity, memory: memoryQuantity })),
    recorded: fc.boolean(),
  })
  .map(({ capacity, allocatable, kubelet, otherKubelet, oversold, recorded }) => ({
    capacity,
    allocatable,
    /** Two records that differ only in their `kubelet` numbers (absent when not recorded). */
    records: recorded
      ? [kubelet, otherKubelet].map((k) => JSON.stringify({ kubelet: k, oversold: oversold ?? allocatable }))
      : undefined,
  }));

/** The fields the apiserver fills in when it defaults a container (core/v1 SetDefaults_*). */
const CONTAINER_DEFAULTS: Json = {
  terminationMessagePath: '/dev/termination-log',
  terminationMessagePolicy: 'File',
  imagePullPolicy: 'IfNotPresent',
};

/** Changes that make a container another one than the template's, whatever its name. */
const hostileContainerEdit: fc.Arbitrary<{ what: string; edit: (container: Json) => void }> = fc.oneof(
  fc.string({ maxLength: 20 }).map((s) => ({
    what: 'command',
    edit: (c: Json) => {
      c.command = ['sh', '-c', s];
    },
  })),
  fc
    .constantFrom<Json>(
      { runAsUser: 0 },
      { privileged: true },
      { capabilities: { add: ['SYS_ADMIN'] } },
      { runAsNonRoot: false },
    )
    .map((securityContext) => ({
      what: 'securityContext',
      edit: (c: Json) => {
        c.securityContext = securityContext;
      },
    })),
  fc.constant({
    what: 'volumeMounts',
    edit: (c: Json) => {
      c.volumeMounts = [...(c.volumeMounts ?? []), { name: 'kube-api-access-7x2kq', mountPath: '/steal' }];
    },
  }),
  fc.string({ maxLength: 10 }).map((value) => ({
    what: 'env',
    edit: (c: Json) => {
      c.env = [...(c.env ?? []), { name: 'LD_PRELOAD', value }];
    },
  })),
  fc.constantFrom('fluent/fluent-bit:2.0', 'evil.example.com/shipper:3.1').map((image) => ({
    what: 'image',
    edit: (c: Json) => {
      c.image = image;
    },
  })),
  fc.constantFrom('/etc/passwd', '/dev/termination-log2').map((path) => ({
    what: 'terminationMessagePath',
    edit: (c: Json) => {
      c.terminationMessagePath = path;
    },
  })),
  fc.constantFrom('Never', 'Always').map((policy) => ({
    what: 'imagePullPolicy',
    edit: (c: Json) => {
      c.imagePullPolicy = policy;
    },
  })),
  fc.constant({
    what: 'args',
    edit: (c: Json) => {
      c.args = [...(c.args ?? []), '--extra'];
    },
  }),
  fc.constant({
    what: 'stdin',
    edit: (c: Json) => {
      c.stdin = true;
    },
  }),
);

/**
 * A pod's own container carrying the template container's name: the template's container
 * itself (as written, or as the apiserver defaults it), or one with a hostile change, such as
 * a command or runAsUser 0, that must never pass for the template's.
 */
export function sidecarLookalike(template: Json): fc.Arbitrary<{ container: Json; hostile: string | null }> {
  return fc
    .record({ defaulted: fc.boolean(), change: fc.option(hostileContainerEdit, { freq: 3 }) })
    .map(({ defaulted, change }) => {
      const container = structuredClone(template);
      if (defaulted) Object.assign(container, CONTAINER_DEFAULTS, { ...container });
      change?.edit(container);
      return { container, hostile: change ? change.what : null };
    });
}

/** What a pod may carry in the `injected` status annotation: a copy of a real one, or anything. */
export function forgedInjectedStatus(real: string): fc.Arbitrary<string | null> {
  return fc.option(
    fc.oneof(fc.constant(real), fc.constant(real.split(' ')[0] ?? ''), fc.string({ maxLength: 30 })),
  );
}
