// The work of node-selector, on anything shaped like a pod (a pod, or a Knative revision
// template checked up front): one implementation for the mutation and the validation.
import * as z from 'zod';
import { conflict, Denial, forbidden } from '../../shared/denial.ts';
import type { PathPart } from '../../shared/field-path.ts';
import { readJsonAnnotation } from '../../shared/k8s/annotations.ts';
import { labelKeyProblem, labelValueProblem } from '../../shared/k8s/names.ts';
import { noSpecDenial, type PodShaped, unusableSpecDenial } from '../../shared/k8s/pod.ts';
import { annotationPrefixSetting, readSetting } from '../../shared/k8s/settings.ts';
import {
  defaultNodeSelectorPolicy,
  describeAllowed,
  keyProblem,
  keyRuleFor,
  loadNodeSelectorPolicy,
  type NodeSelectorPolicy,
} from './policy.ts';

/** The variables node-selector reads (the Knative Service validation reads them too). */
export const nodeSelectorVariables = {
  annotationPrefix: annotationPrefixSetting('prefix of the <prefix>/nodeSelector annotation'),
  nodeSelectorOverride: z
    .stringbool()
    .default(false)
    .describe(
      'true: the annotation wins over a nodeSelector key the pod already sets to another value (with a warning); otherwise that is a denial',
    ),
  nodeSelectorPolicyFile: z
    .string()
    .min(1)
    .optional()
    .describe(
      'node-selector policy file, JSON or YAML (a mounted ConfigMap): the keys and key prefixes allowed per namespace; without it the well-known scheduling labels, keys under <ANNOTATION_PREFIX>/ and keys without a prefix; never kubernetes.io/hostname, node-restriction.kubernetes.io/ or node-role.kubernetes.io/ by a prefix (docs/node-selector-policy.md)',
    ),
};

export interface NodeSelectorSettings {
  readonly annotationPrefix: string;
  readonly nodeSelectorOverride: boolean;
  readonly nodeSelectorPolicy: NodeSelectorPolicy;
}

/** Reads the policy file named by NODE_SELECTOR_POLICY_FILE once, as part of loading the configuration. */
export function withNodeSelectorPolicy<
  C extends { annotationPrefix: string; nodeSelectorPolicyFile?: string | undefined },
>(config: C, ctx: z.RefinementCtx): C & { nodeSelectorPolicy: NodeSelectorPolicy } {
  const file = config.nodeSelectorPolicyFile;
  const fallback = defaultNodeSelectorPolicy(config.annotationPrefix);
  if (!file) return { ...config, nodeSelectorPolicy: fallback };
  const load = () => loadNodeSelectorPolicy(file, config.annotationPrefix);
  return { ...config, nodeSelectorPolicy: readSetting(ctx, 'nodeSelectorPolicyFile', load, fallback) };
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

/**
 * Merges the annotated node selector into `pod` (changed in place), or refuses: a key the
 * policy's rule for `namespace` does not allow, a conflict with the pod's own selector.
 */
export function selectNodes<P extends PodShaped>(
  pod: P,
  settings: NodeSelectorSettings,
  namespace: string | undefined,
  warn: (message: string) => void,
): P | Denial {
  const key = `${settings.annotationPrefix}/nodeSelector`;
  const wanted = readJsonAnnotation(pod, key, nodeSelectorSchema);
  if (wanted instanceof Denial || wanted === undefined) return wanted ?? pod;
  if (Object.keys(wanted).length === 0) return pod;
  const rule = keyRuleFor(settings.nodeSelectorPolicy, namespace);
  const refused = Object.keys(wanted).flatMap((label) => {
    const problem = keyProblem(rule, label);
    return problem ? [forbidden(problem, labelKey(label))] : [];
  });
  const [first, ...rest] = refused;
  if (first) return first.also(...rest, forbidden(describeAllowed(rule))).within(`annotation ${key}`);
  const unusable = unusableSpecDenial(pod);
  if (unusable || !pod.spec) return unusable ?? noSpecDenial();
  pod.spec.nodeSelector ??= {};
  const selector = pod.spec.nodeSelector;
  for (const [label, value] of Object.entries(wanted)) {
    // Own keys only: `constructor` or `toString` is a key like any other, not Object's.
    const present = Object.hasOwn(selector, label) ? selector[label] : undefined;
    if (present === value) continue;
    if (present !== undefined) {
      if (!settings.nodeSelectorOverride) {
        return conflict(
          `the pod's nodeSelector already sets it to "${present}", the annotation asks for "${value}" (NODE_SELECTOR_OVERRIDE=true lets the annotation win)`,
          labelKey(label),
        ).viaAnnotation(key);
      }
      warn(`node-selector: nodeSelector "${label}" changed from "${present}" to "${value}" by ${key}`);
    }
    selector[label] = value;
  }
  return pod;
}

/** A key of the annotation's selector, as the messages name it: `key "disktype"`. */
function labelKey(label: string): PathPart {
  return { label: `key "${label}"` };
}
