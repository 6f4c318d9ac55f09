// The work of volume-extension, on anything shaped like a pod (a pod, or a Knative revision
// template checked up front): read the annotations, hold them against the volume policy, add
// the volumes and mounts. One implementation for the mutation and the validation.
import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { z } from 'zod';
import { readJsonAnnotation } from '../../shared/k8s/annotations.ts';
import { type PodShaped, podSpecProblem } from '../../shared/k8s/pod.ts';
import { isContainedIn } from '../../shared/k8s/subset.ts';
import {
  defaultVolumePolicy,
  loadVolumePolicy,
  mountProblem,
  ruleFor,
  type VolumePolicy,
  volumeProblem,
} from '../../shared/k8s/volume-policy.ts';
import { volumeMountSchema, volumeSchema } from '../../shared/k8s/volumes.ts';
import { Denial, deny } from '../../shared/mutation.ts';

// Built once: a zod schema costs more to build than to run, and readJsonAnnotation remembers
// outcomes per schema.
const volumesSchema = z.array(volumeSchema);
const volumeMountsSchema = z.array(volumeMountSchema);

/** The variables volume-extension reads (the Knative Service validation reads them too). */
export const volumeVariables = {
  annotationPrefix: z
    .string()
    .min(1)
    .default('knative.netease.dev')
    .describe('prefix of the <prefix>/volumes and <prefix>/volumeMounts annotations'),
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
      'volume policy file, JSON or YAML (a mounted ConfigMap): volume types and hostPath prefixes allowed per namespace; without it every type but hostPath and gitRepo',
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
  try {
    return { ...config, policy: loadVolumePolicy(file) };
  } catch (error) {
    ctx.addIssue({ code: 'custom', path: ['volumePolicyFile'], message: (error as Error).message });
    return { ...config, policy: defaultVolumePolicy };
  }
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
  if (!volumes && !mounts) return pod;

  const rule = ruleFor(settings.policy, namespace);
  for (const [i, volume] of (volumes ?? []).entries()) {
    const problem = volumeProblem(rule, volume);
    if (problem) return deny(`annotation ${volumesKey}: item ${i} (volume "${volume.name}"): ${problem}`);
  }
  if (!pod.spec) return deny('the pod has no spec', 400);
  const specProblem = podSpecProblem(pod.spec);
  if (specProblem) return deny(`the pod cannot take the annotations: ${specProblem}`, 400);

  // A new list is attached only when something goes in: no `volumes: []` on a pod without any.
  const podVolumes = pod.spec.volumes ?? [];
  // Looked up by name and path through maps: an annotation may hold thousands of items, and
  // a linear search per item over a copy-on-write draft would make a review take seconds.
  const volumeNamed = firstBy(podVolumes, (v) => v.name);
  for (const [i, volume] of (volumes ?? []).entries()) {
    const present = volumeNamed.get(volume.name);
    if (!present) {
      podVolumes.push(volume as V1Volume);
      volumeNamed.set(volume.name, volume as V1Volume);
    } else if (!isContainedIn(volume, present)) {
      return deny(
        `annotation ${volumesKey}: item ${i}: name: the pod already has a different volume named "${volume.name}"`,
        409,
      );
    }
  }
  if (!pod.spec.volumes && podVolumes.length > 0) pod.spec.volumes = podVolumes;
  if (!mounts) return pod;

  const target = settings.targetContainer;
  const container = pod.spec.containers.find((c) => c.name === target);
  if (!container) {
    const names = pod.spec.containers.map((c) => c.name).join(', ');
    return deny(
      `annotation ${mountsKey}: the pod has no container named "${target}" (containers: ${names})`,
      400,
    );
  }
  const containerMounts = container.volumeMounts ?? [];
  const mountAt = firstBy(containerMounts, (m) => m.mountPath);
  for (const [i, mount] of mounts.entries()) {
    const volume = volumeNamed.get(mount.name);
    if (!volume) {
      return deny(
        `annotation ${mountsKey}: item ${i}: name: no volume named "${mount.name}" in the pod or in ${volumesKey}`,
        400,
      );
    }
    const problem = mountProblem(rule, mount, volume);
    if (problem) return deny(`annotation ${mountsKey}: item ${i} (volume "${mount.name}"): ${problem}`);
    const present = mountAt.get(mount.mountPath);
    if (!present) {
      containerMounts.push(mount as V1VolumeMount);
      mountAt.set(mount.mountPath, mount as V1VolumeMount);
    } else if (!isContainedIn(mount, present)) {
      return deny(
        `annotation ${mountsKey}: item ${i}: mountPath: "${mount.mountPath}" is already mounted in container "${target}" (volume "${present.name}")`,
        409,
      );
    }
  }
  if (!container.volumeMounts && containerMounts.length > 0) container.volumeMounts = containerMounts;
  return pod;
}

/** The first item for each key, as `find` would return it. */
function firstBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of items) if (!map.has(key(item))) map.set(key(item), item);
  return map;
}
