// label-stamping: stamps configured labels on any admitted object.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { toLabelValue } from '../../shared/k8s/names.ts';
import { defineMutation } from '../../shared/mutation.ts';
import type { AdmissionRequest, KubernetesObject } from '../../shared/review.ts';
import { type LabelRule, type Placeholder, parseLabelRules } from './labels-config.ts';

interface Labelled extends KubernetesObject {
  metadata?: { labels?: Record<string, string> | null };
}

const config = z
  .object({
    stampLabels: z
      .string()
      .default('')
      .describe(
        'labels to stamp: key=value entries separated by commas or new lines; values may use {namespace} {user} {operation} {kind} {resource}',
      ),
    stampLabelsFile: z
      .string()
      .optional()
      .describe('a file (a mounted ConfigMap) with more entries in the same format'),
    overwriteLabels: z
      .stringbool()
      .default(false)
      .describe('true: replace a label the object already has with another value'),
    allowReservedPrefixes: z
      .stringbool()
      .default(false)
      .describe('true: allow keys under kubernetes.io/ and k8s.io/'),
  })
  .transform((c, ctx) => {
    const read = (key: 'stampLabels' | 'stampLabelsFile', text: () => string): LabelRule[] => {
      try {
        return parseLabelRules(text(), c.allowReservedPrefixes);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: [key], message: (error as Error).message });
        return [];
      }
    };
    const rules = read('stampLabels', () => c.stampLabels);
    const file = c.stampLabelsFile;
    if (file) {
      for (const rule of read('stampLabelsFile', () => readFileSync(file, 'utf8'))) {
        if (rules.some((r) => r.key === rule.key)) {
          ctx.addIssue({
            code: 'custom',
            path: ['stampLabelsFile'],
            message: `key "${rule.key}" is also in STAMP_LABELS`,
          });
        }
        rules.push(rule);
      }
    }
    return { rules, overwriteLabels: c.overwriteLabels };
  });

function fill(rule: LabelRule, request: AdmissionRequest): string {
  if (!rule.templated) return rule.template;
  const values: Record<Placeholder, string> = {
    namespace: request.namespace ?? '',
    user: request.userInfo?.username ?? '',
    operation: request.operation,
    kind: request.kind.kind,
    resource: request.resource.resource,
  };
  return toLabelValue(rule.template.replace(/\{([a-z]+)\}/g, (_, name: Placeholder) => values[name]));
}

export default defineMutation({
  name: 'label-stamping',
  description: 'Stamps configured labels on every admitted object',
  appliesTo: { resources: ['*'], operations: ['CREATE', 'UPDATE'] },
  config,
  webhook: {
    failurePolicy: 'Ignore',
    failurePolicyReason:
      'labels are bookkeeping: an object without them still works, so an unreachable webhook must not block the cluster',
  },
  onError: 'allow',

  mutate(object: Labelled, { config, request, warn }) {
    if (config.rules.length === 0) return object;
    object.metadata ??= {};
    const metadata = object.metadata;
    for (const rule of config.rules) {
      const value = fill(rule, request);
      const present = metadata.labels?.[rule.key];
      if (present === value) continue;
      if (present !== undefined && !config.overwriteLabels) {
        warn(
          `label-stamping: label "${rule.key}" kept as "${present}" (configured "${value}"; OVERWRITE_LABELS=true replaces it)`,
        );
        continue;
      }
      metadata.labels ??= {};
      metadata.labels[rule.key] = value;
    }
    return object;
  },
});
