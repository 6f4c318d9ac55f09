// volume-extension: volumes and volumeMounts from pod annotations into the pod and its user
// container, the way around Knative's restrictions on volume types in a Service, within the
// volume policy (shared/k8s/volume-policy.ts). The policy holds for every way a container
// comes to mount a hostPath volume: the annotation, the pod's own containers of every kind at
// creation, and containers added later (pods/ephemeralcontainers, what `kubectl debug` sends).
import type { V1Pod } from '@kubernetes/client-node';
import * as z from 'zod';
import { forbidden } from '../../shared/denial.ts';
import { describeUnknownAnnotations, unknownPrefixAnnotations } from '../../shared/k8s/annotations.ts';
import { defineMutation } from '../../shared/mutation.ts';
import { extendVolumes, judgeAddedMounts, volumeVariables, withVolumePolicy } from './extend.ts';

/** The label the webhook selects pods by: removing it would take the pod out of its sight. */
const SELECTOR_LABEL = 'serving.knative.dev/service';

export default defineMutation({
  name: 'volume-extension',
  description:
    'Adds the volumes and volumeMounts written in pod annotations to the pod and its user container',
  summary: {
    reads:
      'pod annotations `knative.netease.dev/volumes` (JSON array of core/v1 Volume) and `knative.netease.dev/volumeMounts` (JSON array of VolumeMount)',
    writes: 'the volumes into `spec.volumes`, the mounts into the `user-container`',
  },
  appliesTo: { resources: ['pods', 'pods/ephemeralcontainers'], operations: ['CREATE', 'UPDATE'] },
  config: z.object(volumeVariables).transform(withVolumePolicy),
  webhook: {
    failurePolicy: 'Fail',
    failurePolicyReason:
      'a pod started without the volumes it was written with would run with missing data, and a container added unchecked could mount a hostPath writable; better not to start it',
    objectLabelExists: SELECTOR_LABEL,
  },

  mutate(pod: V1Pod, { config, request, warn }) {
    if (request.operation === 'UPDATE') {
      const old = request.oldObject as V1Pod | null | undefined;
      // Before Kubernetes 1.22 the subresource carried an EphemeralContainers object, without
      // the pod's volumes: a mount in it cannot be judged, so it is refused.
      if (request.kind.kind === 'EphemeralContainers') return ephemeralContainersObject(pod, old);
      if (!request.subResource && old?.metadata?.labels?.[SELECTOR_LABEL] !== undefined) {
        const removed = pod.metadata?.labels?.[SELECTOR_LABEL] === undefined;
        if (removed && (pod.spec?.volumes ?? []).some((v) => v?.hostPath)) {
          return forbidden(
            `"${SELECTOR_LABEL}" may not be removed from a pod with hostPath volumes: the webhook selects pods by it, and containers added later (kubectl debug) must still be held to the volume policy`,
            { field: 'metadata' },
            { field: 'labels' },
          );
        }
      }
      return judgeAddedMounts(pod, old, config, request.namespace) ?? pod;
    }
    const unknown = unknownPrefixAnnotations(pod, config.annotationPrefix);
    for (const line of describeUnknownAnnotations(unknown, config.annotationPrefix)) warn(line);
    return extendVolumes(pod, config, request.namespace);
  },
});

/** The pre-1.22 EphemeralContainers object: admitted only when no ephemeral container mounts anything. */
function ephemeralContainersObject(object: V1Pod, old: V1Pod | null | undefined) {
  const listOf = (o: unknown): unknown[] => {
    const containers: unknown = (o as { ephemeralContainers?: unknown } | null)?.ephemeralContainers;
    return Array.isArray(containers) ? containers : [];
  };
  const nameOf = (c: unknown): unknown => (c as { name?: unknown } | null)?.name;
  const had = new Set(listOf(old).map(nameOf));
  for (const [i, container] of listOf(object).entries()) {
    if (had.has(nameOf(container))) continue;
    const mounts: unknown = (container as { volumeMounts?: unknown } | null)?.volumeMounts;
    if (Array.isArray(mounts) && mounts.length > 0) {
      return forbidden(
        "an EphemeralContainers object (Kubernetes before 1.22) does not show the pod's volumes, so a mount in it cannot be held to the volume policy: debug without volume mounts",
        { field: 'ephemeralContainers' },
        { index: i },
        { field: 'volumeMounts' },
      );
    }
  }
  return object;
}
