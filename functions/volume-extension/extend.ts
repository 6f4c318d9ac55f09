// The work of volume-extension, on anything shaped like a pod (a pod, or a Knative revision
// template checked up front): read the annotations, hold them against the volume policy, add
// the volumes and mounts. One implementation for the mutation and the validation.
import type { V1Container, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { isDraft, original } from 'immer';
import * as z from 'zod';
import { conflict, Denial, denyAll, forbidden, invalid } from '../../shared/denial.ts';
import type { PathPart } from '../../shared/field-path.ts';
import { readJsonAnnotation } from '../../shared/k8s/annotations.ts';
import { noSpecDenial, type PodShaped, podSpecProblem, unusableSpecDenial } from '../../shared/k8s/pod.ts';
import { annotationPrefixSetting, readSetting } from '../../shared/k8s/settings.ts';
import { isContainedIn } from '../../shared/k8s/subset.ts';
import {
  defaultVolumePolicy,
  loadVolumePolicy,
  mountProblem,
  ruleFor,
  type VolumePolicy,
  volumeProblem,
} from '../../shared/k8s/volume-policy.ts';
import { mountInContainerProblem, volumeMountSchema, volumeSchema } from '../../shared/k8s/volumes.ts';

// Built once: a zod schema costs more to build than to run, and readJsonAnnotation remembers
// outcomes per schema.
const volumesSchema = z.array(volumeSchema);
const volumeMountsSchema = z.array(volumeMountSchema);

/** The variables volume-extension reads (the Knative Service validation reads them too). */
export const volumeVariables = {
  annotationPrefix: annotationPrefixSetting(
    'prefix of the <prefix>/volumes and <prefix>/volumeMounts annotations',
  ),
  targetContainer: z
    .string()
    .min(1)
    .default('user-container')
    .describe('name of the container that receives the mounts'),
  volumePolicyFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'volume policy file, JSON or YAML (a mounted ConfigMap): volume types, inline CSI drivers and hostPath prefixes allowed per namespace; without it the volume types of Pod Security restricted, no inline CSI driver, no hostPath',
    ),
};

export interface VolumeSettings {
  readonly annotationPrefix: string;
  readonly targetContainer: string;
  readonly policy: VolumePolicy;
}

/** Reads the policy file named by VOLUME_POLICY_FILE once, as part of loading the configuration. */
export function withVolumePolicy<C extends { volumePolicyFile?: string | undefined }>(
  config: C,
  ctx: z.RefinementCtx,
): C & { policy: VolumePolicy } {
  const file = config.volumePolicyFile;
  if (!file) return { ...config, policy: defaultVolumePolicy };
  return {
    ...config,
    policy: readSetting(ctx, 'volumePolicyFile', () => loadVolumePolicy(file), defaultVolumePolicy),
  };
}

/** Adds the annotated volumes and mounts to `pod` (changed in place), or refuses. */
export function extendVolumes<P extends PodShaped>(
  pod: P,
  settings: VolumeSettings,
  namespace: string | undefined,
): P | Denial {
  const volumesKey = `${settings.annotationPrefix}/volumes`;
  const mountsKey = `${settings.annotationPrefix}/volumeMounts`;
  const volumes = readJsonAnnotation(pod, volumesKey, volumesSchema);
  if (volumes instanceof Denial) return volumes;
  const mounts = readJsonAnnotation(pod, mountsKey, volumeMountsSchema);
  if (mounts instanceof Denial) return mounts;
  const rule = ruleFor(settings.policy, namespace);
  if (!volumes && !mounts) {
    // Nothing to add; the pod's own mounts of hostPath volumes are still held to the policy.
    if (!pod.spec || podSpecProblem(pod.spec)) return pod;
    return denyAll(ownMountProblems(plain(pod.spec), new Map(), rule, volumesKey)) ?? pod;
  }

  const volumeDenials: Denial[] = [];
  for (const [i, volume] of (volumes ?? []).entries()) {
    const problem = volumeProblem(rule, volume);
    if (problem)
      volumeDenials.push(forbidden(problem).viaItem(i, volumeNamed(volume.name)).viaAnnotation(volumesKey));
  }
  const refused = denyAll(volumeDenials);
  if (refused) return refused;
  const unusable = unusableSpecDenial(pod);
  if (unusable || !pod.spec) return unusable ?? noSpecDenial();
  const before = plain(pod.spec);

  // A new list is attached only when something goes in: no `volumes: []` on a pod without any.
  const podVolumes = pod.spec.volumes ?? [];
  // Looked up by name and path through maps: an annotation may hold thousands of items, and
  // a linear search per item over a copy-on-write draft would make a review take seconds.
  const volumeByName = firstBy(podVolumes, (v) => v.name);
  /** The volumes the annotation adds, by name, with their item: the pod's own mounts of them are judged too. */
  const injected = new Map<string, number>();
  for (const [i, volume] of (volumes ?? []).entries()) {
    const present = volumeByName.get(volume.name);
    if (!present) {
      podVolumes.push(volume as V1Volume);
      volumeByName.set(volume.name, volume as V1Volume);
      injected.set(volume.name, i);
    } else if (!isContainedIn(volume, present)) {
      return conflict(`the pod already has a different volume named "${volume.name}"`, { field: 'name' })
        .viaItem(i)
        .viaAnnotation(volumesKey);
    }
  }
  // The pod's own containers (every kind) may mount what the annotation adds: a mount written
  // in the pod for a volume it does not have yet is held to the rule like the annotation's.
  const ownProblems = ownMountProblems(before, volumeByName, rule, volumesKey, injected);
  if (ownProblems.length > 0) return denyAll(ownProblems) as Denial;
  if (!pod.spec.volumes && podVolumes.length > 0) pod.spec.volumes = podVolumes;
  if (!mounts) return pod;

  const target = settings.targetContainer;
  const container = pod.spec.containers.find((c) => c.name === target);
  if (!container) {
    const names = pod.spec.containers.map((c) => c.name).join(', ');
    return invalid(`the pod has no container named "${target}" (containers: ${names})`).viaAnnotation(
      mountsKey,
    );
  }
  const targetBefore = before.containers.find((c) => c.name === target);
  const mountDenials: Denial[] = [];
  for (const [i, mount] of mounts.entries()) {
    const volume = volumeByName.get(mount.name);
    if (!volume) {
      const missing = `no volume named "${mount.name}" in the pod or in ${volumesKey}`;
      mountDenials.push(invalid(missing, { field: 'name' }).viaItem(i).viaAnnotation(mountsKey));
      continue;
    }
    const problem = mountProblem(rule, mount, volume) ?? mountInContainerProblem(mount, targetBefore);
    if (problem)
      mountDenials.push(forbidden(problem).viaItem(i, volumeNamed(mount.name)).viaAnnotation(mountsKey));
  }
  const mountRefused = denyAll(mountDenials);
  if (mountRefused) return mountRefused;
  const containerMounts = container.volumeMounts ?? [];
  const mountAt = firstBy(containerMounts, (m) => m.mountPath);
  for (const [i, mount] of mounts.entries()) {
    const present = mountAt.get(mount.mountPath);
    if (!present) {
      containerMounts.push(mount as V1VolumeMount);
      mountAt.set(mount.mountPath, mount as V1VolumeMount);
    } else if (!isContainedIn(mount, present)) {
      const taken = `"${mount.mountPath}" is already mounted in container "${target}" (volume "${present.name}")`;
      return conflict(taken, { field: 'mountPath' }).viaItem(i).viaAnnotation(mountsKey);
    }
  }
  if (!container.volumeMounts && containerMounts.length > 0) container.volumeMounts = containerMounts;
  return pod;
}

export const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
type ContainerList = (typeof CONTAINER_LISTS)[number];

/** A copy-on-write draft read through its original: walking the draft would copy every container. */
function plain(spec: V1PodSpec): V1PodSpec {
  return isDraft(spec) ? (original(spec) as V1PodSpec) : spec;
}

/**
 * The problems of the pod's own mounts (containers of every kind) of hostPath volumes, judged
 * by the rule. `volumes` are the pod's volumes and those the annotation adds (`injected`, by
 * item); a volume named in neither is the pod's own, from `spec`.
 */
function ownMountProblems(
  spec: V1PodSpec,
  volumes: ReadonlyMap<string, V1Volume>,
  rule: ReturnType<typeof ruleFor>,
  volumesKey: string,
  injected: ReadonlyMap<string, number> = new Map(),
): Denial[] {
  const own = volumes.size > 0 ? volumes : firstBy(spec.volumes ?? [], (v) => v.name);
  const problems: Denial[] = [];
  for (const { path, mount } of mountsOf(spec)) {
    const volume = own.get(mount.name);
    const problem = mountProblem(rule, mount, volume);
    if (!problem) continue;
    const item = injected.get(mount.name);
    const denial = forbidden(problem, ...path);
    problems.push(
      item === undefined ? denial : denial.viaItem(item, volumeNamed(mount.name)).viaAnnotation(volumesKey),
    );
  }
  return problems;
}

/** A volume's name beside its item or index: `(volume "data")`. */
const volumeNamed = (name: string) => ({ what: 'volume', name });

/**
 * Every mount of every container of `spec`, with where it is written
 * (`spec.initContainers[0] ("setup").volumeMounts[1] (volume "data")`).
 */
function* mountsOf(
  spec: V1PodSpec,
  only?: (list: ContainerList, container: V1Container, mount: V1VolumeMount) => boolean,
): Generator<{ path: PathPart[]; mount: V1VolumeMount }> {
  for (const list of CONTAINER_LISTS) {
    for (const [i, container] of (spec[list] ?? []).entries()) {
      for (const [j, mount] of (container.volumeMounts ?? []).entries()) {
        if (only && !only(list, container as V1Container, mount)) continue;
        const path: PathPart[] = [
          { field: 'spec' },
          { field: list },
          { index: i, named: { name: container.name } },
          { field: 'volumeMounts' },
          { index: j, named: volumeNamed(mount.name) },
        ];
        yield { path, mount };
      }
    }
  }
}

/**
 * The check on an UPDATE of a pod or of its ephemeral containers (`kubectl debug`): nothing is
 * added then, but a container added or changed may mount a hostPath volume, which the rule
 * governs as at creation. Mounts the pod already had are left alone (a pod created under an
 * older policy can still be updated).
 */
export function judgeAddedMounts(
  pod: PodShaped,
  old: PodShaped | null | undefined,
  settings: VolumeSettings,
  namespace: string | undefined,
): Denial | undefined {
  if (!pod.spec || podSpecProblem(pod.spec)) return undefined;
  const spec = plain(pod.spec);
  const oldSpec = old?.spec && !podSpecProblem(old.spec) ? old.spec : undefined;
  const had = new Set<string>();
  for (const list of CONTAINER_LISTS) {
    for (const container of oldSpec?.[list] ?? []) {
      for (const mount of container.volumeMounts ?? []) had.add(mountKey(list, container, mount));
    }
  }
  const rule = ruleFor(settings.policy, namespace);
  const volumes = firstBy(spec.volumes ?? [], (v) => v.name);
  const problems: Denial[] = [];
  for (const { path, mount } of mountsOf(spec, (list, c, m) => !had.has(mountKey(list, c, m)))) {
    const problem = mountProblem(rule, mount, volumes.get(mount.name));
    if (problem) problems.push(forbidden(problem, ...path));
  }
  return denyAll(problems);
}

/** What makes a mount the same one for the policy: container, volume, path, read-only. */
function mountKey(list: ContainerList, container: V1Container, mount: V1VolumeMount): string {
  return JSON.stringify([
    list,
    container.name,
    mount.name,
    mount.mountPath,
    mount.subPath,
    mount.readOnly === true,
  ]);
}

/** The first item for each key, as `find` would return it. */
function firstBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) if (!map.has(key(item))) map.set(key(item), item);
  return map;
}
