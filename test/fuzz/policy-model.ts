// The volume policy as a tenant must meet it, written apart from shared/k8s/volume-policy.ts
// (which the fuzz classes test): it reads the same policy file and decides, for a volume and
// its mounts in the pod the apiserver ends up with, whether the policy allows them. When the
// function's code and this model disagree on an admitted pod, the fuzz run fails.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: the policy file and pods are read as plain JSON
type Json = any;

/** Pod Security's `restricted` volume types: what a rule without volumeTypes allows. */
const RESTRICTED = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];
/** The hostPath types the kubelet checks and that are no socket or device: a prefix without `types`. */
const CHECKED_TYPES = ['Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate'];

interface Prefix {
  segments: string[];
  types: string[];
  readOnly: boolean;
}
interface Rule {
  types: string[];
  csiDrivers: string[];
  prefixes: Prefix[];
}
export interface PolicyModel {
  ruleFor(namespace: string | undefined): Rule;
}

function ruleOf(raw: Json): Rule {
  return {
    types: raw?.volumeTypes ?? RESTRICTED,
    csiDrivers: raw?.csiDrivers ?? [],
    prefixes: (raw?.hostPath ?? []).map((h: Json) => ({
      segments: segmentsOf(h.pathPrefix) ?? [],
      types: h.types ?? CHECKED_TYPES,
      readOnly: h.readOnly ?? true,
    })),
  };
}

/** The model of VOLUME_POLICY_FILE (undefined: no file, the default rule everywhere). */
export function policyModel(file: string | undefined): PolicyModel {
  const raw: Json = file ? (parse(readFileSync(file, 'utf8')) ?? {}) : {};
  const fallback = ruleOf(raw.default);
  const rules = (raw.rules ?? []).map((r: Json) => ({
    namespaces: r.namespaces as string[],
    rule: ruleOf(r),
  }));
  const names = (pattern: string, namespace: string) =>
    pattern.endsWith('*') ? namespace.startsWith(pattern.slice(0, -1)) : pattern === namespace;
  return {
    ruleFor(namespace) {
      if (namespace === undefined) return fallback;
      return rules.find((r: Json) => r.namespaces.some((p: string) => names(p, namespace)))?.rule ?? fallback;
    },
  };
}

/** The path's segments, `.` and empty ones dropped; undefined when relative or with a `..`. */
function segmentsOf(path: unknown): string[] | undefined {
  if (typeof path !== 'string' || !path.startsWith('/')) return undefined;
  const segments = path.split('/').filter((s) => s !== '' && s !== '.');
  return segments.includes('..') ? undefined : segments;
}

/** The longest prefix of `rule` that holds `path`, segment by segment. */
function prefixFor(rule: Rule, path: unknown): Prefix | undefined {
  const segments = segmentsOf(path);
  if (!segments) return undefined;
  let best: Prefix | undefined;
  for (const prefix of rule.prefixes) {
    const inside = prefix.segments.every((s, i) => segments[i] === s);
    if (inside && (!best || prefix.segments.length > best.segments.length)) best = prefix;
  }
  return best;
}

/** Why the rule does not allow this volume in the pod at all, or undefined. */
export function volumeBreach(rule: Rule, volume: Json): string | undefined {
  const sources = Object.keys(volume ?? {}).filter((k) => k !== 'name');
  if (sources.length !== 1) return `volume ${JSON.stringify(volume?.name)} has ${sources.length} sources`;
  const [source] = sources as [string];
  if (source === 'hostPath') {
    const prefix = prefixFor(rule, volume.hostPath?.path);
    if (!prefix) return `hostPath ${JSON.stringify(volume.hostPath?.path)} is under no allowed prefix`;
    const type = volume.hostPath?.type ?? '';
    if (!prefix.types.includes(type)) return `hostPath type ${JSON.stringify(type)} is not allowed there`;
    return undefined;
  }
  if (!rule.types.includes(source)) return `volume type ${source} is not allowed`;
  if (source === 'csi' && !rule.csiDrivers.includes(volume.csi?.driver)) {
    return `inline csi driver ${JSON.stringify(volume.csi?.driver)} is not allowed`;
  }
  return undefined;
}

/** Why the rule does not allow this mount of `volume` (only hostPath volumes are governed by mount). */
export function mountBreach(rule: Rule, mount: Json, volume: Json): string | undefined {
  if (!volume?.hostPath) return undefined;
  const breach = volumeBreach(rule, volume);
  if (breach) return breach;
  const prefix = prefixFor(rule, volume.hostPath.path) as Prefix;
  if (prefix.readOnly && mount?.readOnly !== true) {
    return `hostPath ${JSON.stringify(volume.hostPath.path)} is mounted writable where the rule wants read-only`;
  }
  return undefined;
}

export const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** Every mount of every container of the pod, with the key that tells a new mount from an old one. */
export function mountsOf(pod: Json): { where: string; key: string; mount: Json }[] {
  const out: { where: string; key: string; mount: Json }[] = [];
  for (const list of CONTAINER_LISTS) {
    for (const [i, container] of (pod?.spec?.[list] ?? []).entries()) {
      for (const [j, mount] of (container?.volumeMounts ?? []).entries()) {
        const key = JSON.stringify([
          list,
          container.name,
          mount.name,
          mount.mountPath,
          mount.subPath,
          mount.readOnly === true,
        ]);
        out.push({ where: `spec.${list}[${i}].volumeMounts[${j}]`, key, mount });
      }
    }
  }
  return out;
}

/**
 * What the admitted pod breaks of the policy: volumes it gained (compared with `before`) of a
 * type the rule does not allow, and mounts of hostPath volumes, new ones only when `onlyNew`
 * (an UPDATE leaves the mounts a pod already had alone), that the rule does not allow.
 */
export function podBreaches(rule: Rule, before: Json, after: Json, onlyNew: boolean): string[] {
  const breaches: string[] = [];
  const had = new Set((before?.spec?.volumes ?? []).map((v: Json) => v?.name));
  const volumes = new Map<string, Json>();
  for (const volume of after?.spec?.volumes ?? [])
    if (!volumes.has(volume?.name)) volumes.set(volume?.name, volume);
  for (const volume of after?.spec?.volumes ?? []) {
    if (had.has(volume?.name)) continue;
    const breach = volumeBreach(rule, volume);
    if (breach) breaches.push(`added volume ${JSON.stringify(volume?.name)}: ${breach}`);
  }
  const old = new Set(onlyNew ? mountsOf(before).map((m) => m.key) : []);
  for (const { where, key, mount } of mountsOf(after)) {
    if (old.has(key)) continue;
    const breach = mountBreach(rule, mount, volumes.get(mount?.name));
    if (breach) breaches.push(`${where} (volume ${JSON.stringify(mount?.name)}): ${breach}`);
  }
  return breaches;
}
