// node-selector: merges the node selector written in a pod annotation into spec.nodeSelector,
// for the keys the node-selector policy allows (policy.ts).
import type { V1Pod } from '@kubernetes/client-node';
import * as z from 'zod';
import { describeUnknownAnnotations, unknownPrefixAnnotations } from '../../shared/k8s/annotations.ts';
import { defineMutation } from '../../shared/mutation.ts';
import { nodeSelectorVariables, selectNodes, withNodeSelectorPolicy } from './select.ts';

export default defineMutation({
  name: 'node-selector',
  description: 'Merges the node selector written in a pod annotation into spec.nodeSelector',
  summary: {
    reads: 'pod annotation `knative.netease.dev/nodeSelector` (JSON object)',
    writes: '`spec.nodeSelector`',
  },
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  config: z.object(nodeSelectorVariables).transform(withNodeSelectorPolicy),
  webhook: {
    failurePolicy: 'Fail',
    failurePolicyReason:
      'a pod scheduled without its node selector can land on nodes it must not run on (wrong architecture, no GPU)',
    objectLabelExists: 'serving.knative.dev/service',
  },

  mutate(pod: V1Pod, { config, request, warn }) {
    const unknown = unknownPrefixAnnotations(pod, config.annotationPrefix);
    for (const line of describeUnknownAnnotations(unknown, config.annotationPrefix)) warn(line);
    return selectNodes(pod, config, request.namespace, warn);
  },
});
