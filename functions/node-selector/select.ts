// The work of node-selector, on anything shaped like a pod (a pod, or a Knative revision
// template checked up front): one implementation for the mutation and the validation.
import { z } from 'zod';
import { readJsonAnnotation } from '../../shared/k8s/annotations.ts';
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';
import { type PodShaped, podSpecProblem } from '../../shared/k8s/pod.ts';
import { Denial, deny } from '../../shared/mutation.ts';

/** The variables node-selector reads (the Knative Service validation reads them too). */
export const nodeSelectorVariables = {
  annotationPrefix: z
    .string()
    .min(1)
    .default('knative.netease.dev')
    .describe('prefix of the <prefix>/nodeSelector annotation'),
  nodeSelectorOverride: z
    .stringbool()
    .default(false)
    .describe('true: the annotation wins over a nodeSelector key the pod already sets to another value'),
};

export interface NodeSelectorSettings {
  readonly annotationPrefix: string;
  readonly nodeSelectorOverride: boolean;
}

export const nodeSelectorSchema = z
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

/** Merges the annotated node selector into `pod` (changed in place), or refuses. */
export function selectNodes<P extends PodShaped>(
  pod: P,
  settings: NodeSelectorSettings,
  warn: (message: string) => void,
): P | Denial {
  const key = `${settings.annotationPrefix}/nodeSelector`;
  const wanted = readJsonAnnotation(pod, key, nodeSelectorSchema);
  if (wanted instanceof Denial || wanted === undefined) return wanted ?? pod;
  if (Object.keys(wanted).length === 0) return pod;
  if (!pod.spec) return deny('the pod has no spec', 400);
  const specProblem = podSpecProblem(pod.spec);
  if (specProblem) return deny(`the pod cannot take the annotations: ${specProblem}`, 400);
  pod.spec.nodeSelector ??= {};
  const selector = pod.spec.nodeSelector;
  for (const [label, value] of Object.entries(wanted)) {
    const present = selector[label];
    if (present === value) continue;
    if (present !== undefined) {
      if (!settings.nodeSelectorOverride) {
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
}
