// default-resources: fills the CPU and memory requests a container leaves out, from
// configuration, so the scheduler never places a pod as if it needed nothing. The example of
// docs/writing-a-function.md, checked by test/writing-a-function.test.ts.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import * as z from 'zod';
import { noSpecDenial } from '../../../shared/k8s/pod.ts';
import { quantitySchema } from '../../../shared/k8s/settings.ts';
import { defineMutation } from '../../../shared/mutation.ts';

const RESOURCES = ['cpu', 'memory'] as const;

export default defineMutation({
  name: 'default-resources',
  description: 'Fills the CPU and memory requests a container leaves out, from configuration',
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  // Each key is read from its variable in CONSTANT_CASE: DEFAULT_CPU_REQUEST, DEFAULT_MEMORY_REQUEST.
  config: z.object({
    defaultCpuRequest: quantitySchema.default('100m').describe('CPU request of a container that sets none'),
    defaultMemoryRequest: quantitySchema
      .default('128Mi')
      .describe('memory request of a container that sets none'),
  }),
  // failurePolicy Ignore: onError follows (a bug admits the pod unchanged, with a warning).
  webhook: {
    failurePolicy: 'Ignore',
    failurePolicyReason:
      'defaults only: a pod without them still runs, so an unreachable webhook must not block it',
  },

  mutate(pod: V1Pod, { config }) {
    if (!pod.spec) return noSpecDenial();
    const defaults = { cpu: config.defaultCpuRequest, memory: config.defaultMemoryRequest };
    for (const container of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
      fillRequests(container, defaults);
    }
    return pod;
  },
});

function fillRequests(container: V1Container, defaults: Record<(typeof RESOURCES)[number], string>): void {
  for (const resource of RESOURCES) {
    const resources = container.resources ?? {};
    // A limit alone already sets the request: the apiserver defaults it to the limit.
    if (resources.requests?.[resource] !== undefined || resources.limits?.[resource] !== undefined) continue;
    container.resources = {
      ...resources,
      requests: { ...resources.requests, [resource]: defaults[resource] },
    };
  }
}
