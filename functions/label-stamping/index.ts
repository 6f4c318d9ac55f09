// label-stamping: stamps configured labels on any admitted object.
import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { type LabelRule, parseLabelRules, stampLabels } from '../../shared/k8s/label-rules.ts';
import { readSetting } from '../../shared/k8s/settings.ts';
import { defineMutation } from '../../shared/mutation.ts';
import type { KubernetesObject } from '../../shared/review.ts';

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
      .describe(
        'a file (a mounted ConfigMap) with more entries in the same format, one per line, # comments',
      ),
    overwriteLabels: z
      .stringbool()
      .default(false)
      .describe(
        'true: replace a label the object already has with another value; otherwise keep it and warn',
      ),
    allowReservedPrefixes: z
      .stringbool()
      .default(false)
      .describe('true: allow keys under kubernetes.io/ and k8s.io/'),
  })
  .transform((c, ctx) => {
    const read = (key: 'stampLabels' | 'stampLabelsFile', text: () => string): LabelRule[] =>
      readSetting(ctx, key, () => parseLabelRules(text(), c.allowReservedPrefixes), []);
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

export default defineMutation({
  name: 'label-stamping',
  description: 'Stamps configured labels on every admitted object',
  summary: {
    reads: 'its configuration (`STAMP_LABELS`, `STAMP_LABELS_FILE`)',
    writes: '`metadata.labels` of any object',
  },
  appliesTo: { resources: ['*'], operations: ['CREATE', 'UPDATE'] },
  config,
  webhook: {
    failurePolicy: 'Ignore',
    failurePolicyReason:
      'labels are bookkeeping: an object without them still works, so an unreachable webhook must not block the cluster',
  },

  mutate(object: Labelled, { config, request, warn }) {
    stampLabels(object, config.rules, request, {
      overwrite: config.overwriteLabels,
      warn,
      source: 'label-stamping',
    });
    return object;
  },
});
