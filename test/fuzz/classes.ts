// The hostile-tenant classes of the fuzz run: for each way a tenant tried around the policy or
// tried to take the webhook down, a generator of its variants and what must hold for every one
// of them (the generic run only checks that answers are well formed). A new variant of a class
// is then found by the run, not by a user.
//
//   hostpath-tricks       hostPath paths and types around an allowed prefix, mounted by the annotation
//   mount-sites           a hostPath volume (annotation or the pod's own) mounted from every container kind
//   ephemeral-containers  pods/ephemeralcontainers updates (kubectl debug) mounting the pod's volumes
//   volume-types          every volume source, inline csi of any driver, under each policy
//   duplicate-keys        annotation JSON with a key written twice, at any depth, escaped or not
//   unknown-annotations   misspelt keys under the annotation prefix
//   prototype-keys        __proto__, constructor, prototype keys anywhere in the object (and over every runtime)
//   huge-quantities       quantities of up to 200,000 digits wherever a function reads quantities
//   deep-nesting          values nested thousands of levels deep anywhere in the object
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { VOLUME_SOURCES } from '../../shared/k8s/volumes.ts';
import { projectRoot, sharedDir } from '../support/apiserver.ts';
import { ENVIRONMENTS } from '../support/environments.ts';
import { podBreaches, policyModel } from './policy-model.ts';

// biome-ignore lint/suspicious/noExplicitAny: generated JSON is edited freely
type Json = any;
const readJson = (path: string): Json => JSON.parse(readFileSync(path, 'utf8'));

const PREFIX = 'knative.netease.dev';
const VOLUMES = `${PREFIX}/volumes`;
const MOUNTS = `${PREFIX}/volumeMounts`;
const NODE_SELECTOR = `${PREFIX}/nodeSelector`;
const ALLOWED = '/usr/local/nagent4docker';

/** One generated case: which function, configured how, gets which body. */
export interface HostileCase {
  function: string;
  env: Record<string, string>;
  /** The request body as sent (text: duplicate keys and __proto__ keys live only in text). */
  body: string;
  /** What the oracle needs to know about how the case was made. */
  facts: Json;
}

/** What the function answered, and the object as the apiserver has it after the patch. */
export interface Outcome {
  status: number;
  reply: Json;
  /** The verdict of admission-check: allowed with the patched object, or the denial. */
  allowed?: boolean;
  object?: Json;
  message: string;
  warnings: string[];
  /** Time of the in-process answer. */
  ms: number;
}

export interface HostileClass {
  name: string;
  cases: fc.Arbitrary<HostileCase>;
  /** What is wrong with the outcome, or undefined. */
  check(c: HostileCase, outcome: Outcome): string | undefined;
  /** The class also goes over HTTP to every runtime, whose answer must equal the in-process one. */
  everyRuntime?: boolean;
  /** False: the reviews are past what admission-check reads (nesting deeper than Go's 10,000). */
  judged?: boolean;
}

// --- the policies the volume classes run under -------------------------------------------

const policyDir = mkdtempSync(join(tmpdir(), 'faas-admission-fuzz-policy-'));
/** A prefix without `types` (the default types) and a named csi driver: what the defaults allow. */
const untypedPolicy = join(policyDir, 'untyped.yaml');
writeFileSync(
  untypedPolicy,
  [
    'default:',
    '  csiDrivers: [secrets-store.csi.k8s.io]',
    '  hostPath:',
    `    - pathPrefix: ${ALLOWED}`,
    '      readOnly: false',
    `    - pathPrefix: ${ALLOWED}/ro`,
    'rules:',
    '  - namespaces: [wide-*]',
    '    volumeTypes: [nfs, emptyDir]',
    '',
  ].join('\n'),
);
const POLICIES: Record<string, string | undefined> = {
  nagent: join(projectRoot, 'samples', 'policies', 'nagent.yaml'),
  none: undefined,
  untyped: untypedPolicy,
};
const models = Object.fromEntries(Object.entries(POLICIES).map(([name, file]) => [name, policyModel(file)]));
/** The environment of the fuzz run with this volume policy. */
const envWith = (policy: string): Record<string, string> => {
  const { VOLUME_POLICY_FILE: _, ...rest } = ENVIRONMENTS[0] as Record<string, string>;
  const file = POLICIES[policy];
  return file ? { ...rest, VOLUME_POLICY_FILE: file } : rest;
};
/** A review for volume-extension under the policy named, which the oracle judges it by. */
const volumeExtensionCase = (review: Json, policy: string): HostileCase => ({
  function: 'volume-extension',
  env: envWith(policy),
  body: JSON.stringify(review),
  facts: { policy },
});
const policyName = fc.constantFrom(...Object.keys(POLICIES));
const namespace = fc.constantFrom('team-a', 'nfaas-demo', 'sandbox-1', 'wide-open', 'nfaas-demo-x');

// --- the base objects -----------------------------------------------------------------------

const knativePod: Json = readJson(join(sharedDir, 'fixtures', 'knative-pod-netease-annotations.v1.json'));
const service: Json = readJson(join(projectRoot, 'samples', 'knative-service', 'create-good.v1.json'));
const heartbeat: Json = readJson(join(projectRoot, 'samples', 'node-oversale', 'kubelet-heartbeat.json'));
const configMap: Json = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '6a1d1e0e-5a6b-4c1e-9a4c-2f0e0c1b7a01',
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    resource: { group: '', version: 'v1', resource: 'configmaps' },
    name: 'settings',
    namespace: 'team-a',
    operation: 'CREATE',
    userInfo: { username: 'alice@example.com' },
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'team-a' },
      data: {},
    },
  },
};

/** The fixture pod in `ns`, without the fixture's own annotations under the prefix. */
function bareReview(ns: string): Json {
  const review = structuredClone(knativePod);
  const { request } = review;
  request.namespace = ns;
  request.object.metadata.namespace = ns;
  for (const key of Object.keys(request.object.metadata.annotations)) {
    if (key.startsWith(`${PREFIX}/`)) delete request.object.metadata.annotations[key];
  }
  return review;
}

// --- hostPath paths and types ---------------------------------------------------------------

/** Paths around the allowed prefix: equal, below, near misses, climbing out, odd spellings. */
const trickyPath: fc.Arbitrary<string> = fc.oneof(
  // Paths the sample policies allow, as written or spelled oddly, so that many pods get admitted.
  {
    weight: 3,
    arbitrary: fc.constantFrom(ALLOWED, `${ALLOWED}/scripts`, `${ALLOWED}//scripts/`, `${ALLOWED}/./ro/x`),
  },
  fc.constantFrom(
    ALLOWED,
    `${ALLOWED}/`,
    `/${ALLOWED}`,
    `${ALLOWED}//scripts`,
    `${ALLOWED}/./scripts`,
    `${ALLOWED}/scripts/..`,
    `${ALLOWED}/../../etc`,
    `${ALLOWED}/ro`,
    `${ALLOWED}/ro/x`,
    `${ALLOWED}/ro/../x`,
    `${ALLOWED}-evil`,
    `${ALLOWED}evil`,
    `${ALLOWED}.d`,
    '/usr/local/./nagent4docker',
    '/usr//local/nagent4docker/x',
    '/usr/local/nagent4docker/x/../..',
    '/usr/local/NAGENT4DOCKER',
    '/usr/local/nagent4docker\\..\\..\\etc',
    '/usr/local/nagent4docker%2f..%2f..',
    '/usr/local/nagent4docker/\u0000/x',
    '/usr/local/nagent4dockeｒ',
    '/usr/local',
    '/',
    '/var/run/docker.sock',
    '/dev/sda',
    'usr/local/nagent4docker',
    '',
    '.',
  ),
  fc
    .tuple(
      fc.constantFrom(ALLOWED, `${ALLOWED}/ro`),
      fc.array(fc.constantFrom('x', '.', '..', '', 'sock'), { maxLength: 4 }),
    )
    .map(([base, parts]) => [base, ...parts].join('/')),
);
const hostPathType = fc.oneof(
  { weight: 3, arbitrary: fc.constant('Directory') },
  fc.constantFrom(
    undefined,
    '',
    'Directory',
    'DirectoryOrCreate',
    'File',
    'FileOrCreate',
    'Socket',
    'CharDevice',
    'BlockDevice',
  ),
);
const hostPathVolume = (name: string) =>
  fc.record({ path: trickyPath, type: hostPathType }).map(({ path, type }) => ({
    name,
    hostPath: type === undefined ? { path } : { path, type },
  }));
const readOnly = fc.constantFrom<boolean | undefined>(true, true, false, undefined);
const mountOf = (name: string, mountPath: string, ro: boolean | undefined) => ({
  name,
  mountPath,
  ...(ro === undefined ? {} : { readOnly: ro }),
});

/** The oracle of the volume classes: an admitted pod breaks nothing of the policy. */
function policyHeld(c: HostileCase, outcome: Outcome): string | undefined {
  if (outcome.status !== 200) return `answered ${outcome.status}: ${outcome.message}`;
  if (!outcome.allowed) return undefined;
  const sent = JSON.parse(c.body).request;
  const rule = models[c.facts.policy as string]?.ruleFor(sent.namespace);
  if (!rule) return `no model of policy ${c.facts.policy}`;
  const update = sent.operation === 'UPDATE';
  const breaches = podBreaches(rule, update ? sent.oldObject : sent.object, outcome.object, update);
  return breaches.length > 0
    ? `admitted against the ${c.facts.policy} policy: ${breaches.join('; ')}`
    : undefined;
}

const hostpathTricks: HostileClass = {
  name: 'hostpath-tricks',
  cases: fc
    .record({
      policy: policyName,
      ns: namespace,
      volume: hostPathVolume('host'),
      ro: readOnly,
      mounted: fc.boolean(),
    })
    .map(({ policy, ns, volume, ro, mounted }) => {
      const review = bareReview(ns);
      const notes = review.request.object.metadata.annotations;
      notes[VOLUMES] = JSON.stringify([volume]);
      if (mounted) notes[MOUNTS] = JSON.stringify([mountOf('host', '/host', ro)]);
      return volumeExtensionCase(review, policy);
    }),
  check: policyHeld,
};

/** Where a container of the pod can be, and whether it comes with the pod or from the annotation. */
const mountSite = fc.constantFrom(
  'annotation',
  'containers[0]',
  'containers[1]',
  'containers[new]',
  'initContainers[new]',
  'initContainers[sidecar]',
);

const mountSites: HostileClass = {
  name: 'mount-sites',
  cases: fc
    .record({
      policy: policyName,
      ns: namespace,
      volume: hostPathVolume('host'),
      from: fc.constantFrom('annotation', 'pod'),
      sites: fc.uniqueArray(fc.tuple(mountSite, readOnly), {
        minLength: 1,
        maxLength: 3,
        selector: ([s]) => s,
      }),
      subPath: fc.constantFrom(undefined, 'x', 'a/b'),
    })
    .map(({ policy, ns, volume, from, sites, subPath }) => {
      const review = bareReview(ns);
      const pod = review.request.object;
      const notes = pod.metadata.annotations;
      if (from === 'annotation') notes[VOLUMES] = JSON.stringify([volume]);
      else pod.spec.volumes.push(volume);
      const mounts: Json[] = [];
      pod.spec.containers[1].volumeMounts ??= [];
      for (const [i, [site, ro]] of sites.entries()) {
        const mount = { ...mountOf('host', `/host${i}`, ro), ...(subPath ? { subPath } : {}) };
        if (site === 'annotation') mounts.push(mount);
        else if (site === 'containers[0]') pod.spec.containers[0].volumeMounts.push(mount);
        else if (site === 'containers[1]') pod.spec.containers[1].volumeMounts.push(mount);
        else if (site === 'containers[new]') {
          pod.spec.containers.push({ name: 'helper', image: 'busybox:1.36', volumeMounts: [mount] });
        } else {
          pod.spec.initContainers ??= [];
          pod.spec.initContainers.push({
            name: site === 'initContainers[new]' ? 'setup' : 'shipper',
            image: 'busybox:1.36',
            ...(site === 'initContainers[sidecar]' ? { restartPolicy: 'Always' } : {}),
            volumeMounts: [mount],
          });
        }
      }
      if (mounts.length > 0) notes[MOUNTS] = JSON.stringify(mounts);
      return volumeExtensionCase(review, policy);
    }),
  check: policyHeld,
};

const ephemeralContainers: HostileClass = {
  name: 'ephemeral-containers',
  cases: fc
    .record({
      policy: policyName,
      ns: namespace,
      volume: hostPathVolume('host'),
      ownRo: readOnly,
      debugRo: readOnly,
      debuggers: fc.integer({ min: 1, max: 2 }),
      already: fc.boolean(),
      targetSub: fc.boolean(),
    })
    .map(({ policy, ns, volume, ownRo, debugRo, debuggers, already, targetSub }) => {
      const review = bareReview(ns);
      const { request } = review;
      const pod = request.object;
      pod.metadata.name = 'hello-00001-deployment-abc';
      pod.spec.volumes.push(volume);
      pod.spec.containers[0].volumeMounts.push(mountOf('host', '/usr/local/nagent', ownRo));
      request.operation = 'UPDATE';
      if (targetSub) {
        request.subResource = 'ephemeralcontainers';
        request.requestSubResource = 'ephemeralcontainers';
      }
      request.oldObject = structuredClone(pod);
      pod.spec.ephemeralContainers = Array.from({ length: debuggers }, (_, i) => ({
        name: `debugger-${i}`,
        image: 'busybox:1.36',
        targetContainerName: 'user-container',
        volumeMounts: [mountOf('host', `/host${i}`, debugRo)],
      }));
      // A debug container the pod already had (admitted before) is left alone.
      if (already)
        request.oldObject.spec.ephemeralContainers = structuredClone(
          pod.spec.ephemeralContainers.slice(0, 1),
        );
      return volumeExtensionCase(review, policy);
    }),
  check: policyHeld,
};

const SOURCE_BODIES: Record<string, Json> = {
  nfs: { server: 'nfs.example.com', path: '/export' },
  iscsi: { targetPortal: '10.0.0.1:3260', iqn: 'iqn.2001-04.com.example:storage', lun: 0 },
  flexVolume: { driver: 'example/lvm' },
  rbd: { monitors: ['10.0.0.1:6789'], image: 'foo' },
  gitRepo: { repository: 'https://example.com/r.git' },
  configMap: { name: 'app' },
  secret: { secretName: 'app' },
  persistentVolumeClaim: { claimName: 'data' },
  emptyDir: {},
  csi: { driver: 'secrets-store.csi.k8s.io' },
  image: { reference: 'registry.example.com/data:1' },
};

/** A volume of any source core/v1 knows, with a plausible body for the sources people use. */
const anyVolume: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom(...VOLUME_SOURCES.filter((s) => s !== 'hostPath')).map((source) => ({
    name: 'v',
    [source]: SOURCE_BODIES[source] ?? {},
  })),
  fc
    .constantFrom(
      'secrets-store.csi.k8s.io',
      'secrets-store.csi.k8s.io.evil',
      'SECRETS-STORE.csi.k8s.io',
      'csi.example.com',
      'hostpath.csi.k8s.io',
    )
    .map((driver) => ({ name: 'v', csi: { driver, readOnly: true } })),
);

const volumeTypes: HostileClass = {
  name: 'volume-types',
  cases: fc
    .record({ policy: policyName, ns: namespace, volume: anyVolume, validate: fc.boolean() })
    .map(({ policy, ns, volume, validate }) => {
      if (validate) {
        // knative-service-validation must refuse at apply time what every pod would be refused.
        const review = structuredClone(service);
        review.request.namespace = ns;
        review.request.object.metadata.namespace = ns;
        review.request.object.spec.template.metadata.annotations[VOLUMES] = JSON.stringify([volume]);
        return {
          function: 'knative-service-validation',
          env: envWith(policy),
          body: JSON.stringify(review),
          facts: { policy, volume },
        };
      }
      const review = bareReview(ns);
      review.request.object.metadata.annotations[VOLUMES] = JSON.stringify([volume]);
      return volumeExtensionCase(review, policy);
    }),
  check(c, outcome) {
    if (c.function === 'volume-extension') return policyHeld(c, outcome);
    if (outcome.status !== 200 || !outcome.allowed) return undefined;
    const ns = JSON.parse(c.body).request.namespace;
    const rule = models[c.facts.policy]?.ruleFor(ns);
    const breaches = podBreaches(rule as Json, { spec: {} }, { spec: { volumes: [c.facts.volume] } }, false);
    return breaches.length > 0
      ? `the Service was admitted, its every pod would be refused: ${breaches.join('; ')}`
      : undefined;
  },
};

// --- duplicate keys -----------------------------------------------------------------------------

/** JSON text of `value` with the key at `path` written once more, first with `first`, as given or escaped. */
function duplicated(value: Json, pick: number, first: Json, escaped: boolean): string | undefined {
  const objects: { object: Json; key: string }[] = [];
  const walk = (node: Json) => {
    if (node === null || typeof node !== 'object') return;
    if (!Array.isArray(node)) for (const key of Object.keys(node)) objects.push({ object: node, key });
    for (const child of Object.values(node)) walk(child);
  };
  walk(value);
  if (objects.length === 0) return undefined;
  const { object, key } = objects[pick % objects.length] as { object: Json; key: string };
  const marker = '\u0001dup\u0001';
  const original = object[key];
  object[key] = marker;
  const spelled = escaped
    ? `"${[...key].map((ch, i) => (i === 0 ? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}` : ch)).join('')}"`
    : JSON.stringify(key);
  const text = JSON.stringify(value).replace(
    `${JSON.stringify(key)}:${JSON.stringify(marker)}`,
    `${spelled}:${JSON.stringify(first)},${JSON.stringify(key)}:${JSON.stringify(original)}`,
  );
  object[key] = original;
  return text;
}

const duplicateKeys: HostileClass = {
  name: 'duplicate-keys',
  cases: fc
    .record({
      which: fc.constantFrom('volumes', 'volumeMounts', 'nodeSelector'),
      pick: fc.nat(),
      first: fc.constantFrom<Json>(
        '/',
        false,
        true,
        'Socket',
        '/etc',
        'kubernetes.io/hostname',
        { path: '/' },
        null,
      ),
      escaped: fc.boolean(),
      validate: fc.boolean(),
    })
    .map(({ which, pick, first, escaped, validate }) => {
      const values: Record<string, Json> = {
        volumes: [{ name: 'script-vol', hostPath: { path: ALLOWED, type: 'Directory' } }],
        volumeMounts: [{ name: 'script-vol', mountPath: '/usr/local/nagent', readOnly: true }],
        nodeSelector: { disktype: 'ssd', 'kubernetes.io/arch': 'amd64' },
      };
      const text = duplicated(values[which], pick, first, escaped) as string;
      const notes: Record<string, string> = {
        [VOLUMES]: JSON.stringify(values.volumes),
        [MOUNTS]: JSON.stringify(values.volumeMounts),
        [NODE_SELECTOR]: JSON.stringify(values.nodeSelector),
        [`${PREFIX}/${which}`]: text,
      };
      let review: Json;
      let fn: string;
      if (validate) {
        review = structuredClone(service);
        Object.assign(review.request.object.spec.template.metadata.annotations, notes);
        fn = 'knative-service-validation';
      } else {
        review = bareReview('team-a');
        Object.assign(review.request.object.metadata.annotations, notes);
        fn = which === 'nodeSelector' ? 'node-selector' : 'volume-extension';
      }
      return {
        function: fn,
        env: envWith('nagent'),
        body: JSON.stringify(review),
        facts: { key: `${PREFIX}/${which}` },
      };
    }),
  check(c, outcome) {
    if (outcome.status !== 200) return `answered ${outcome.status}: ${outcome.message}`;
    if (outcome.allowed) return `admitted annotation ${c.facts.key} with a key written twice`;
    if (!outcome.message.includes('is written twice'))
      return `denied, but not for the key written twice: ${outcome.message}`;
    return undefined;
  },
};

// --- unknown keys under the prefix ----------------------------------------------------------

const KNOWN = ['volumes', 'volumeMounts', 'nodeSelector', 'inject', 'injected', 'oversale'];
/** Near misses of the known names (case, one letter off, plurals) and names of Object's own properties. */
const unknownName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...KNOWN).chain((name) =>
    fc.oneof(
      fc.constant(name.toLowerCase()),
      fc.constant(name.toUpperCase()),
      fc.constant(`${name}s`),
      fc.constant(name.slice(0, -1)),
      fc.nat({ max: name.length - 1 }).map((i) => name.slice(0, i) + name.slice(i + 1)),
      fc.nat({ max: name.length - 1 }).map((i) => `${name.slice(0, i)}_${name.slice(i)}`),
    ),
  ),
  fc.constantFrom('constructor', 'toString', '__proto__', 'hasOwnProperty', 'volume-mounts', 'node-selector'),
  fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9.-]{0,15}$/),
);

const unknownAnnotations: HostileClass = {
  name: 'unknown-annotations',
  cases: fc
    .record({
      names: fc.uniqueArray(
        unknownName.filter((n) => !KNOWN.includes(n)),
        { minLength: 1, maxLength: 5 },
      ),
      fn: fc.constantFrom('volume-extension', 'node-selector', 'knative-service-validation'),
    })
    .map(({ names, fn }) => {
      const extra = Object.fromEntries(names.map((n) => [`${PREFIX}/${n}`, '[]']));
      const review = fn === 'knative-service-validation' ? structuredClone(service) : bareReview('team-a');
      const holder =
        fn === 'knative-service-validation'
          ? review.request.object.spec.template.metadata
          : review.request.object.metadata;
      for (const [key, value] of Object.entries(extra)) {
        Object.defineProperty(holder.annotations, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      return {
        function: fn,
        env: envWith('nagent'),
        body: JSON.stringify(review),
        facts: { keys: Object.keys(extra) },
      };
    }),
  check(c, outcome) {
    if (outcome.status !== 200) return `answered ${outcome.status}: ${outcome.message}`;
    const keys: string[] = c.facts.keys;
    const said = [outcome.message, ...outcome.warnings].join('\n');
    // The first three are named, the rest counted.
    const named = keys.slice(0, 3).filter((key) => !said.includes(`annotation ${key}:`));
    if (named.length > 0) return `unknown annotations not named: ${named.join(', ')}`;
    if (keys.length > 3 && !said.includes(`and ${keys.length - 3} more unknown annotations`))
      return 'the unknown annotations past three are not counted';
    if (c.function === 'knative-service-validation' && outcome.allowed)
      return 'a Service with an unknown annotation under the prefix was admitted';
    return undefined;
  },
};

// --- __proto__ and constructor keys anywhere --------------------------------------------------

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf'];

/** Sets an own property, even one named __proto__ (plain assignment would set the prototype). */
function defineOwn(object: object, key: PropertyKey, value: Json): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Every object of `node` (maps and objects alike), in walk order. */
function objectsOf(node: Json, out: Json[] = []): Json[] {
  if (node === null || typeof node !== 'object') return out;
  if (!Array.isArray(node)) out.push(node);
  for (const child of Object.values(node)) objectsOf(child, out);
  return out;
}

const prototypeKeys: HostileClass = {
  name: 'prototype-keys',
  everyRuntime: true,
  cases: fc
    .record({
      base: fc.constantFrom('configmap', 'pod', 'node'),
      places: fc.array(
        fc.record({
          pick: fc.nat(),
          key: fc.constantFrom(...PROTOTYPE_KEYS),
          value: fc.constantFrom<Json>('x', { polluted: 'yes' }, [], 1, null),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      fn: fc.constantFrom(
        'label-stamping',
        'label-stamping',
        'volume-extension',
        'node-selector',
        'sidecar-injection',
        'image-mirror',
        'config-volume',
        'node-oversale',
      ),
    })
    .map(({ base, places, fn }) => {
      const review = structuredClone(
        base === 'configmap' ? configMap : base === 'pod' ? bareReview('team-a') : heartbeat,
      );
      const object = review.request.object;
      // A ConfigMap's data and labels may be keyed by any of these; so may a CRD's fields.
      if (base === 'configmap') defineOwn(object.data, places[0]?.key ?? '__proto__', 'value');
      for (const { pick, key, value } of places) {
        const targets = objectsOf(object);
        const target = targets[pick % targets.length];
        // A map of strings (labels, annotations, data) keeps holding strings: the review stays valid.
        const values = Object.values(target);
        const strings = values.length > 0 && values.every((v) => typeof v === 'string');
        defineOwn(target, key, strings ? 'x' : value);
      }
      return { function: fn, env: envWith('nagent'), body: JSON.stringify(review), facts: { base } };
    }),
  check(c, outcome) {
    // label-stamping reads any object: it must answer the review, whatever keys it holds.
    if (c.function === 'label-stamping' && (outcome.status !== 200 || !outcome.allowed)) {
      return `label-stamping did not admit an object with prototype-named keys: ${outcome.status} ${outcome.message}`;
    }
    if (outcome.status >= 500) return `answered ${outcome.status}: ${outcome.message}`;
    return undefined;
  },
};

// --- quantities of many digits ---------------------------------------------------------------

/** The time an in-process answer may take: far above a linear parse of the longest quantity. */
export const ANSWER_WITHIN_MS = 2_000;

const hugeQuantity: fc.Arbitrary<string> = fc
  .tuple(
    fc.integer({ min: 50_000, max: 200_000 }),
    fc.constantFrom('zeros', 'nines', 'fraction', 'exponent', 'suffix'),
  )
  .map(([n, shape]) => {
    if (shape === 'zeros') return `1${'0'.repeat(n)}`;
    if (shape === 'nines') return '9'.repeat(n);
    if (shape === 'fraction') return `0.${'0'.repeat(n)}1`;
    if (shape === 'exponent') return `${'9'.repeat(n)}e1000`;
    return `${'1'.repeat(n)}Ki`;
  });

const hugeQuantities: HostileClass = {
  name: 'huge-quantities',
  cases: fc
    .record({
      where: fc.constantFrom('node', 'node', 'sizeLimit', 'resources', 'overhead'),
      quantity: hugeQuantity,
      // Which of the node's quantities carry it: the report had them all (allocatable and
      // capacity alike, so the scaled value is formatted), and the record.
      fields: fc.subarray(
        [
          'allocatable.cpu',
          'allocatable.memory',
          'capacity.cpu',
          'capacity.memory',
          'record.kubelet',
          'record.oversold',
        ],
        { minLength: 1 },
      ),
    })
    .map(({ where, quantity, fields }) => {
      if (where === 'node') {
        const review = structuredClone(heartbeat);
        const node = review.request.object;
        // The node carries the label the rule selects, so node-oversale does its arithmetic.
        node.metadata.labels['node-role.example.com/oversale'] = 'true';
        const record = { kubelet: { ...node.status.allocatable }, oversold: { ...node.status.allocatable } };
        for (const field of fields) {
          const [part, name] = field.split('.') as [string, string];
          if (part === 'record') record[name as 'kubelet' | 'oversold'] = { cpu: quantity, memory: quantity };
          else node.status[part][name] = quantity;
        }
        if (fields.some((f) => f.startsWith('record.'))) {
          node.metadata.annotations[`${PREFIX}/oversale`] = JSON.stringify({
            kubelet: { cpu: record.kubelet.cpu, memory: record.kubelet.memory },
            oversold: { cpu: record.oversold.cpu, memory: record.oversold.memory },
          });
        }
        return {
          function: 'node-oversale',
          env: envWith('nagent'),
          body: JSON.stringify(review),
          facts: { fields },
        };
      }
      const review = bareReview('team-a');
      const pod = review.request.object;
      if (where === 'sizeLimit') {
        pod.metadata.annotations[VOLUMES] = JSON.stringify([
          { name: 'cache', emptyDir: { sizeLimit: quantity } },
        ]);
      } else if (where === 'resources') {
        pod.spec.containers[0].resources = {
          limits: { cpu: quantity, memory: quantity },
          requests: { cpu: quantity },
        };
      } else {
        pod.spec.overhead = { cpu: quantity };
      }
      return {
        function: where === 'sizeLimit' ? 'volume-extension' : 'sidecar-injection',
        env: envWith('nagent'),
        body: JSON.stringify(review),
        facts: { where },
      };
    }),
  check(_c, outcome) {
    if (outcome.ms > ANSWER_WITHIN_MS)
      return `took ${Math.round(outcome.ms)} ms: work grows faster than the input`;
    if (outcome.status >= 500) return `answered ${outcome.status}: ${outcome.message}`;
    return undefined;
  },
};

// --- deep nesting anywhere ---------------------------------------------------------------------

const deepNesting: HostileClass = {
  name: 'deep-nesting',
  judged: false,
  cases: fc
    .record({
      depth: fc.integer({ min: 1_000, max: 30_000 }),
      open: fc.constantFrom('[', '{"a":'),
      pick: fc.nat(),
      base: fc.constantFrom('configmap', 'pod', 'node', 'annotation'),
      fn: fc.constantFrom(
        'label-stamping',
        'volume-extension',
        'node-selector',
        'sidecar-injection',
        'image-mirror',
        'config-volume',
        'node-oversale',
      ),
    })
    .map(({ depth, open, pick, base, fn }) => {
      const close = open === '[' ? ']' : '}';
      const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
      if (base === 'annotation') {
        // The JSON of an annotation, which the functions parse and walk themselves.
        const review = bareReview('team-a');
        const key = [VOLUMES, MOUNTS, NODE_SELECTOR][pick % 3] as string;
        // Where the schemas let any value through (a claim template's spec), and where they do not.
        const wrapped: Record<string, string> = {
          [VOLUMES]: `[{"name":"deep","ephemeral":{"volumeClaimTemplate":{"spec":{"a":${deep}}}}}]`,
          [MOUNTS]: `[{"name":"deep","mountPath":"/d","subPath":${deep}}]`,
          [NODE_SELECTOR]: `{"disktype":${deep}}`,
        };
        review.request.object.metadata.annotations[key] = wrapped[key] as string;
        const reader = key === NODE_SELECTOR ? 'node-selector' : 'volume-extension';
        return { function: reader, env: envWith('nagent'), body: JSON.stringify(review), facts: { depth } };
      }
      const review = structuredClone(
        base === 'configmap' ? configMap : base === 'pod' ? bareReview('team-a') : heartbeat,
      );
      const targets = objectsOf(review.request.object);
      const marker = '\u0001deep\u0001';
      defineOwn(targets[pick % targets.length], 'deep', marker);
      const body = JSON.stringify(review).replace(JSON.stringify(marker), deep);
      return { function: fn, env: envWith('nagent'), body, facts: { depth } };
    }),
  check(_c, outcome) {
    if (outcome.status >= 500) return `answered ${outcome.status}: ${outcome.message}`;
    if (outcome.status === 200 && /internal error|Maximum call stack/i.test(outcome.message))
      return `failed inside: ${outcome.message}`;
    return undefined;
  },
};

export const HOSTILE_CLASSES: readonly HostileClass[] = [
  hostpathTricks,
  mountSites,
  ephemeralContainers,
  volumeTypes,
  duplicateKeys,
  unknownAnnotations,
  prototypeKeys,
  hugeQuantities,
  deepNesting,
];
