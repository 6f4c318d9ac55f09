// volume-extension: volumes and volumeMounts from pod annotations into the pod and its user
// container, the way around Knative's restrictions on volume types in a Service.
import type { V1Pod, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { z } from 'zod';
import { readJsonAnnotation } from '../../shared/k8s/annotations.ts';
import { isContainedIn } from '../../shared/k8s/subset.ts';
import { volumeMountSchema, volumeSchema } from '../../shared/k8s/volumes.ts';
import { Denial, defineMutation, deny } from '../../shared/mutation.ts';

export default defineMutation({
  name: 'volume-extension',
  description:
    'Adds the volumes and volumeMounts written in pod annotations to the pod and its user container',
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  config: z.object({
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
  }),
  webhook: {
    failurePolicy: 'Fail',
    failurePolicyReason:
      'a pod started without the volumes it was written with would run with missing data; better not to start it',
    objectLabelExists: 'serving.knative.dev/service',
  },
  onError: 'deny',

  mutate(pod: V1Pod, { config }) {
    const volumesKey = `${config.annotationPrefix}/volumes`;
    const mountsKey = `${config.annotationPrefix}/volumeMounts`;
    const volumes = readJsonAnnotation(pod, volumesKey, z.array(volumeSchema));
    if (volumes instanceof Denial) return volumes;
    const mounts = readJsonAnnotation(pod, mountsKey, z.array(volumeMountSchema));
    if (mounts instanceof Denial) return mounts;
    if (!volumes && !mounts) return pod;
    if (!pod.spec) return deny('the pod has no spec', 400);

    pod.spec.volumes ??= [];

    const podVolumes = pod.spec.volumes;
    for (const [i, volume] of (volumes ?? []).entries()) {
      const present = podVolumes.find((v) => v.name === volume.name);
      if (!present) podVolumes.push(volume as V1Volume);
      else if (!isContainedIn(volume, present)) {
        return deny(
          `annotation ${volumesKey}: item ${i}: name: the pod already has a different volume named "${volume.name}"`,
          409,
        );
      }
    }
    if (!mounts) return pod;

    const target = config.targetContainer;
    const container = pod.spec.containers.find((c) => c.name === target);
    if (!container) {
      const names = pod.spec.containers.map((c) => c.name).join(', ');
      return deny(
        `annotation ${mountsKey}: the pod has no container named "${target}" (containers: ${names})`,
        400,
      );
    }
    container.volumeMounts ??= [];
    const containerMounts = container.volumeMounts;
    for (const [i, mount] of mounts.entries()) {
      if (!podVolumes.some((v) => v.name === mount.name)) {
        return deny(
          `annotation ${mountsKey}: item ${i}: name: no volume named "${mount.name}" in the pod or in ${volumesKey}`,
          400,
        );
      }
      const present = containerMounts.find((m) => m.mountPath === mount.mountPath);
      if (!present) containerMounts.push(mount as V1VolumeMount);
      else if (!isContainedIn(mount, present)) {
        return deny(
          `annotation ${mountsKey}: item ${i}: mountPath: "${mount.mountPath}" is already mounted in container "${target}" (volume "${present.name}")`,
          409,
        );
      }
    }
    return pod;
  },
});
