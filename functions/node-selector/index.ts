// node-selector: merges the node selector written in a pod annotation into spec.nodeSelector.
import type { V1Pod } from '@kubernetes/client-node';
import { z } from 'zod';
import { readJsonAnnotation } from '../../shared/k8s/annotations.ts';
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';
import { Denial, defineMutation, deny } from '../../shared/mutation.ts';

const nodeSelectorSchema = z
  .record(
    z.string(),
    z.string({ message: 'must be a string (label values are strings: write "true", "1")' }),
    {
      message: 'must be a JSON object of label key to value',
    },
  )
  .superRefine((selector, ctx) => {
    for (const [key, value] of Object.entries(selector)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem) ctx.addIssue({ code: 'custom', message: `key "${key}": ${keyProblem}` });
      const valueProblem = labelValueProblem(value);
      if (valueProblem)
        ctx.addIssue({ code: 'custom', message: `key "${key}": value "${value}" ${valueProblem}` });
    }
  });

export default defineMutation({
  name: 'node-selector',
  description: 'Merges the node selector written in a pod annotation into spec.nodeSelector',
  appliesTo: { resources: ['pods'], operations: ['CREATE'] },
  config: z.object({
    annotationPrefix: z
      .string()
      .min(1)
      .default('knative.netease.dev')
      .describe('prefix of the <prefix>/nodeSelector annotation'),
    nodeSelectorOverride: z
      .stringbool()
      .default(false)
      .describe('true: the annotation wins over a nodeSelector key the pod already sets to another value'),
  }),
  webhook: {
    failurePolicy: 'Fail',
    failurePolicyReason:
      'a pod scheduled without its node selector can land on nodes it must not run on (wrong architecture, no GPU)',
    objectLabelExists: 'serving.knative.dev/service',
  },
  onError: 'deny',

  mutate(pod: V1Pod, { config, warn }) {
    const key = `${config.annotationPrefix}/nodeSelector`;
    const wanted = readJsonAnnotation(pod, key, nodeSelectorSchema);
    if (wanted instanceof Denial || wanted === undefined) return wanted ?? pod;
    if (Object.keys(wanted).length === 0) return pod;
    if (!pod.spec) return deny('the pod has no spec', 400);
    pod.spec.nodeSelector ??= {};
    const selector = pod.spec.nodeSelector;
    for (const [label, value] of Object.entries(wanted)) {
      const present = selector[label];
      if (present === value) continue;
      if (present !== undefined) {
        if (!config.nodeSelectorOverride) {
          return deny(
            `annotation ${key}: key "${label}": the pod's nodeSelector already sets it to "${present}", the annotation asks for "${value}" (NODE_SELECTOR_OVERRIDE=true lets the annotation win)`,
            409,
          );
        }
        warn(`node-selector: nodeSelector "${label}" changed from "${present}" to "${value}" by ${key}`);
      }
      selector[label] = value;
    }
    return pod;
  },
});
