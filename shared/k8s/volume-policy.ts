// Which volumes volume-extension may inject, per namespace: a policy file read once at start
// (VOLUME_POLICY_FILE, JSON or YAML). Without a file the default rule applies everywhere: the
// volume types of Pod Security's `restricted` profile, inline CSI for no driver, no hostPath.
// hostPath is allowed only under the path prefixes a rule lists, matched segment by segment on
// the normalised path, and every mount of a hostPath volume, in any container, is held to it.
//
//   default:                       # namespaces no rule below names
//     csiDrivers: [secrets-store.csi.k8s.io]   # inline csi volumes of these drivers (default: none)
//     hostPath:
//       - pathPrefix: /usr/local/nagent4docker
//         types: [Directory]       # hostPath.type values allowed (default: the checked, non-device ones)
//         readOnly: true           # every mount of it must be read-only (default true)
//   rules:                         # first rule naming the namespace wins
//     - namespaces: [nfaas-demo, team-*]
//       volumeTypes: [configMap, secret, emptyDir]   # default: the restricted list
//       hostPath: []
import { posix } from 'node:path';
import * as z from 'zod';
import { fieldsObject } from './known-fields.ts';
import { firstRuleFor, namespacePattern, refineFirstRuleWins } from './namespace-rules.ts';
import { loadPolicyFile, policyFrom } from './policy-file.ts';
import {
  HOST_PATH_TYPES,
  type HostPathType,
  hasBackstep,
  VOLUME_SOURCES,
  type VolumeSource,
} from './volumes.ts';

/**
 * Pod Security's `restricted` volume types. Everything else (nfs, iscsi, rbd, flexVolume, the
 * cloud disks, gitRepo, ...) acts with the node's identity or privileges, and only a rule that
 * names it lets it in. Inline `csi` also needs its driver named (csiDrivers): a driver decides
 * what an inline volume reaches.
 */
export const DEFAULT_VOLUME_TYPES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
] as const satisfies readonly VolumeSource[];
/**
 * The hostPath types the kubelet checks and that are no socket or device. Not `""`: for an
 * unset type the kubelet checks nothing, so `""` under a prefix allows every socket and device
 * below it. Sockets, devices and `""` must be listed explicitly.
 */
export const DEFAULT_HOST_PATH_TYPES: readonly HostPathType[] = [
  'DirectoryOrCreate',
  'Directory',
  'FileOrCreate',
  'File',
];

/** `/a//b/./c/` -> `/a/b/c`: the form prefixes are compared in. */
export function normalisePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/** True when `path` is `prefix` or below it, segment by segment: /a/b is not under /a/bc. */
export function isUnder(path: string, prefix: string): boolean {
  if (prefix === '/') return path.startsWith('/');
  return path === prefix || path.startsWith(`${prefix}/`);
}

const hostPathRuleSchema = fieldsObject(
  {
    pathPrefix: z
      .string()
      .refine((p) => p.startsWith('/'), { message: 'must be an absolute path (start with "/")' })
      .refine((p) => !hasBackstep(p), { message: 'must not contain ".."' })
      .transform(normalisePath),
    types: z
      .array(z.enum(HOST_PATH_TYPES))
      .min(1, 'must list at least one type ("" is the unset type, which the kubelet does not check)')
      .default([...DEFAULT_HOST_PATH_TYPES]),
    readOnly: z.boolean().default(true),
  },
  'a hostPath rule',
);

const volumeType = z.enum(VOLUME_SOURCES).refine((t) => t !== 'hostPath', {
  message: 'hostPath is allowed by path: list its prefixes under hostPath',
});

const csiDriverName = z
  .string()
  .max(63, 'must be no more than 63 characters')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i, {
    message: 'must be a CSI driver name (a DNS-1123 subdomain, such as "csi.example.com")',
  });

const ruleShape = {
  volumeTypes: z.array(volumeType).default([...DEFAULT_VOLUME_TYPES]),
  csiDrivers: z.array(csiDriverName).default([]),
  hostPath: z.array(hostPathRuleSchema).default([]),
};

export const volumePolicySchema = fieldsObject(
  {
    default: fieldsObject(ruleShape, 'a volume policy rule').default({
      volumeTypes: [...DEFAULT_VOLUME_TYPES],
      csiDrivers: [],
      hostPath: [],
    }),
    rules: z
      .array(
        fieldsObject({ namespaces: z.array(namespacePattern).min(1), ...ruleShape }, 'a volume policy rule'),
      )
      .default([]),
  },
  'the volume policy',
).superRefine(refineFirstRuleWins);

export type VolumePolicy = z.output<typeof volumePolicySchema>;
export type HostPathRule = VolumePolicy['default']['hostPath'][number];

/** The rule that governs one namespace, with how a denial names it. */
export interface AppliedRule {
  readonly volumeTypes: readonly VolumeSource[];
  readonly csiDrivers: readonly string[];
  readonly hostPath: readonly HostPathRule[];
  readonly name: string;
}

export const defaultVolumePolicy: VolumePolicy = volumePolicySchema.parse({});

/** Reads and checks a policy file; throws an Error naming the file, the field and the problem. */
export function loadVolumePolicy(file: string): VolumePolicy {
  return loadPolicyFile(file, (value) => policyFrom(volumePolicySchema, value));
}

export function ruleFor(policy: VolumePolicy, namespace: string | undefined): AppliedRule {
  const named = firstRuleFor(policy.rules, namespace);
  if (named) return { ...named.rule, name: `rule rules[${named.index}] (namespace "${named.pattern}")` };
  return { ...policy.default, name: 'default rule' };
}

/** The hostPath rule for `path`: the longest prefix that contains it. */
export function hostPathRuleFor(rule: AppliedRule, path: string): HostPathRule | undefined {
  // `a/link/..` is not `a` on the node when `link` is a symbolic link: no prefix holds a `..`.
  if (hasBackstep(path)) return undefined;
  const normal = normalisePath(path);
  let best: HostPathRule | undefined;
  for (const entry of rule.hostPath) {
    if (isUnder(normal, entry.pathPrefix) && (!best || entry.pathPrefix.length > best.pathPrefix.length)) {
      best = entry;
    }
  }
  return best;
}

interface PolicyVolume {
  readonly name: string;
  readonly hostPath?: { readonly path?: unknown; readonly type?: unknown } | null;
  readonly csi?: { readonly driver?: unknown } | null;
}

/** The source a volume uses (its one field besides name, once it passed the schema). */
function sourceOf(volume: PolicyVolume): string | undefined {
  return Object.keys(volume).find((k) => k !== 'name');
}

/** Why `rule` does not allow `volume`, as `field: problem`, or undefined when it does. */
export function volumeProblem(rule: AppliedRule, volume: PolicyVolume): string | undefined {
  const source = sourceOf(volume);
  if (source === undefined) return undefined;
  if (source === 'hostPath') return hostPathProblem(rule, volume);
  if (!(rule.volumeTypes as readonly string[]).includes(source)) {
    return `${source}: volume type "${source}" is not allowed by the volume policy's ${rule.name} (allowed: ${rule.volumeTypes.join(', ') || 'none'})`;
  }
  if (source === 'csi') {
    const driver = String(volume.csi?.driver);
    if (!rule.csiDrivers.includes(driver)) {
      return `csi.driver: inline CSI driver "${driver}" is not allowed by the volume policy's ${rule.name} (${rule.csiDrivers.length > 0 ? `allowed: ${rule.csiDrivers.join(', ')}` : 'it names no driver under csiDrivers'})`;
    }
  }
  return undefined;
}

/** Why `rule` does not allow this hostPath volume (path under a prefix, type listed there). */
function hostPathProblem(rule: AppliedRule, volume: PolicyVolume): string | undefined {
  const path = String(volume.hostPath?.path);
  const entry = hostPathRuleFor(rule, path);
  if (!entry) {
    const prefixes = rule.hostPath.map((h) => h.pathPrefix).join(', ');
    return `hostPath.path: "${path}" is not under a hostPath prefix the volume policy's ${rule.name} allows (${prefixes ? `allowed: ${prefixes}` : 'it allows no hostPath'})`;
  }
  const type = (volume.hostPath?.type ?? '') as HostPathType;
  if (!entry.types.includes(type)) {
    const listed = entry.types.map((t) => `"${t}"`).join(', ');
    const why =
      type === ''
        ? ': the type is unset, for which the kubelet checks nothing, so a socket or device would do; write the type, such as "Directory"'
        : '';
    return `hostPath.type: "${type}" is not allowed under "${entry.pathPrefix}" by the volume policy's ${rule.name} (allowed: ${listed})${why}`;
  }
  return undefined;
}

/**
 * Why `rule` does not allow mounting `volume` as `mount`, or undefined when it does. It holds
 * for every mount of a hostPath volume, whoever wrote it (the annotation, the pod's own
 * containers, an ephemeral container added later) and wherever the volume came from: the path
 * and type must be allowed and, if the rule says so, the mount read-only.
 */
export function mountProblem(
  rule: AppliedRule,
  mount: { readonly readOnly?: boolean | undefined },
  volume: PolicyVolume | undefined,
): string | undefined {
  if (!volume?.hostPath) return undefined;
  const path = String(volume.hostPath.path);
  const entry = hostPathRuleFor(rule, path);
  if (!entry) {
    const why = hasBackstep(path) ? ' (a path with a ".." segment is never allowed)' : '';
    return `name: volume "${volume.name}" is hostPath "${path}", which the volume policy's ${rule.name} does not allow${why}`;
  }
  const typeProblem = hostPathProblem(rule, volume);
  if (typeProblem) return `name: volume "${volume.name}" is hostPath "${path}", whose ${typeProblem}`;
  if (!entry.readOnly || mount.readOnly === true) return undefined;
  return `readOnly: hostPath "${path}" (volume "${volume.name}") must be mounted read-only under "${entry.pathPrefix}" by the volume policy's ${rule.name} (set "readOnly": true)`;
}
