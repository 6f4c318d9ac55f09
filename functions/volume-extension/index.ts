// volume-extension: volumes and volumeMounts from pod annotations into the pod and its user
// container, the way around Knative's restrictions on volume types in a Service, within the
// volume policy (shared/k8s/volume-policy.ts).
import type { V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { defineMutation } from '../../shared/mutation.ts';
import { extendVolumes, volumeVariables, withVolumePolicy } from './extend.ts';

export default defineMutation({
  name: 'volume-extension',
  description:
    'Adds the volumes and volumeMounts written in pod annotations to the pod and its user container',
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  config: z.object(volumeVariables).transform(withVolumePolicy),
  webhook: {
    failurePolicy: 'Fail',
    failurePolicyReason:
      'a pod started without the volumes it was written with would run with missing data; better not to start it',
    objectLabelExists: 'serving.knative.dev/service',
  },
  onError: 'deny',

  mutate(pod: V1Pod, { config, request }) {
    return extendVolumes(pod, config, request.namespace);
  },
});
