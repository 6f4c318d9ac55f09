// Is a container (or volume) in the pod the one the template yields? Equal to the template's
// item, field for field, except for what the apiserver fills in when it defaults a pod (so a
// reinvocation, which sees the injected item defaulted, recognises it). Anything else the pod's
// item has (another command, runAsUser: 0, one more mount) makes it a different item: a pod
// cannot pass its own container off as the template's.
import { formatPath } from '../../shared/field-path.ts';

/** A field the apiserver may have defaulted: the values it writes there. */
type Defaulted = (
  path: readonly PropertyKey[],
  item: Record<string, unknown>,
) => readonly unknown[] | undefined;

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'];
const PROBE_DEFAULTS: Record<string, number> = {
  timeoutSeconds: 1,
  periodSeconds: 10,
  successThreshold: 1,
  failureThreshold: 3,
};
const DEFAULT_MODE_SOURCES = ['configMap', 'secret', 'projected', 'downwardAPI'];

/** The pull policy the apiserver defaults for an image: Always for `:latest` or no tag. */
function defaultPullPolicy(image: unknown): string {
  if (typeof image !== 'string') return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const name = image.slice(image.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  return colon < 0 || name.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

/** core/v1 SetDefaults_* for a Container, at a path inside it. */
export const containerDefaults: Defaulted = (path, container) => {
  const [first, ...rest] = path;
  const last = path.at(-1);
  if (rest.length === 0) {
    if (first === 'terminationMessagePath') return ['/dev/termination-log'];
    if (first === 'terminationMessagePolicy') return ['File'];
    if (first === 'imagePullPolicy') return [defaultPullPolicy(container.image)];
    if (first === 'resources') return [{}];
  }
  if (first === 'resources' && rest[0] === 'requests') {
    // Requests left unset are defaulted to the limits (SetDefaults_Pod).
    const limits = (container.resources as { limits?: Record<string, unknown> } | undefined)?.limits;
    if (rest.length === 1 && limits) return [limits];
    if (rest.length === 2 && limits && typeof last === 'string' && Object.hasOwn(limits, last)) {
      return [limits[last]];
    }
  }
  if (first === 'ports' && rest.length === 2 && last === 'protocol') return ['TCP'];
  if (first === 'env' && rest.length === 4 && rest[1] === 'valueFrom' && rest[2] === 'fieldRef') {
    return last === 'apiVersion' ? ['v1'] : undefined;
  }
  if (typeof first === 'string' && PROBES.includes(first)) {
    if (rest.length === 1 && typeof last === 'string' && last in PROBE_DEFAULTS)
      return [PROBE_DEFAULTS[last]];
    if (rest.length === 2 && rest[0] === 'httpGet' && last === 'scheme') return ['HTTP'];
  }
  if (first === 'lifecycle' && rest.length === 3 && rest[1] === 'httpGet' && last === 'scheme')
    return ['HTTP'];
  return undefined;
};

/** core/v1 SetDefaults_* for a Volume, at a path inside it. */
export const volumeDefaults: Defaulted = (path) => {
  const [source, ...rest] = path;
  const last = path.at(-1);
  if (rest.length === 1 && typeof source === 'string' && DEFAULT_MODE_SOURCES.includes(source)) {
    return last === 'defaultMode' ? [420] : undefined;
  }
  if (source === 'hostPath' && rest.length === 1 && last === 'type') return [''];
  if (source === 'projected' && last === 'expirationSeconds' && rest[2] === 'serviceAccountToken')
    return [3600];
  if (last === 'apiVersion' && path.at(-2) === 'fieldRef') return ['v1'];
  return undefined;
};

/**
 * Where `present` differs from `wanted` other than by a default `defaulted` allows, as
 * `field: <pod's> in the pod, <template's> in the template`; undefined when it is the same item.
 */
export function itemDifference(wanted: object, present: object, defaulted: Defaulted): string | undefined {
  const show = (value: unknown) => {
    const text = value === undefined ? 'nothing' : JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  };
  const walk = (want: unknown, have: unknown, path: PropertyKey[]): string | undefined => {
    const differ = () =>
      `${formatPath(path) || 'the whole value'}: ${show(have)} in the pod, ${show(want)} in the template`;
    if (want === undefined) {
      const allowed = defaulted(path, present as Record<string, unknown>);
      return allowed?.some((value) => isDeepEqual(value, have)) ? undefined : differ();
    }
    if (typeof want !== 'object' || want === null || typeof have !== 'object' || have === null) {
      return Object.is(want, have) ? undefined : differ();
    }
    if (Array.isArray(want) !== Array.isArray(have)) return differ();
    if (Array.isArray(want) && Array.isArray(have)) {
      if (want.length !== have.length) return differ();
      for (const [i, item] of want.entries()) {
        const problem = walk(item, have[i], [...path, i]);
        if (problem) return problem;
      }
      return undefined;
    }
    const wantObject = want as Record<string, unknown>;
    const haveObject = have as Record<string, unknown>;
    // Own keys of both: a field the pod has and the template has not must be a default.
    const keys = new Set([...Object.keys(wantObject), ...Object.keys(haveObject)]);
    for (const key of keys) {
      const problem = walk(
        Object.hasOwn(wantObject, key) ? wantObject[key] : undefined,
        Object.hasOwn(haveObject, key) ? haveObject[key] : undefined,
        [...path, key],
      );
      if (problem) return problem;
    }
    return undefined;
  };
  return walk(wanted, present, []);
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) =>
      Object.hasOwn(b, k) &&
      isDeepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}

/** Where the ServiceAccount admission plugin mounts the API token into every container. */
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Mount {
  name?: unknown;
  mountPath?: unknown;
  readOnly?: unknown;
}
interface Volume {
  name?: unknown;
  secret?: { secretName?: unknown };
  projected?: { sources?: { serviceAccountToken?: unknown }[] };
}

/** A volume the ServiceAccount plugin adds: the token Secret (1.20) or kube-api-access (1.21+). */
function isTokenVolume(volume: Volume | undefined): boolean {
  if (!volume) return false;
  if (volume.secret) return volume.secret.secretName === volume.name;
  return (volume.projected?.sources ?? []).some((source) => source.serviceAccountToken !== undefined);
}

/**
 * The pod's container without the token mount the apiserver appended to it, when the template's
 * container mounts nothing there. On a reinvocation the apiserver has run every in-tree mutating
 * plugin again, and the ServiceAccount plugin mounted the token into the injected container too
 * (last, `{name, readOnly: true, mountPath}`, a token volume of the pod): without this the
 * function would refuse its own sidecar. Any other extra mount still makes it a different item.
 */
export function withoutTokenMount<T extends { volumeMounts?: Mount[] }>(
  wanted: { volumeMounts?: Mount[] },
  present: T,
  volumes: readonly Volume[],
): T {
  if ((wanted.volumeMounts ?? []).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) return present;
  const mounts = present.volumeMounts ?? [];
  const last = mounts.at(-1);
  const added =
    last !== undefined &&
    Object.keys(last).length === 3 &&
    last.mountPath === TOKEN_MOUNT_PATH &&
    last.readOnly === true &&
    isTokenVolume(volumes.find((v) => v.name === last.name));
  if (!added) return present;
  const { volumeMounts: _, ...rest } = present;
  const kept = mounts.slice(0, -1);
  return (kept.length > 0 || wanted.volumeMounts ? { ...rest, volumeMounts: kept } : rest) as T;
}
