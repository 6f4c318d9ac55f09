// node-oversale: scales a node's status.allocatable cpu and memory by the ratio its labels
// select, on the kubelet's status updates, so the scheduler places more pods than the node
// strictly holds.
//
// Telling the kubelet's value from ours: every status update carries some allocatable, either
// the kubelet's own (it patches it back every heartbeat, since it differs from the stored
// one) or the one stored, which this function wrote. The annotation `<prefix>/oversale`
// records both numbers of the last scaling, {"kubelet":{...},"oversold":{...}}: an
// allocatable equal to the recorded oversold value is ours and is kept (within capacity ×
// ratio); any other value is the kubelet's and is scaled from itself. So a reinvocation, or
// another writer of node status (node-problem-detector), never scales twice. Anyone who may
// update the Node can forge the record, so its numbers never enter the arithmetic: every
// result is bounded by the capacity the kubelet reports in the same request, and never negative.
import type { V1Node } from '@kubernetes/client-node';
import * as z from 'zod';
import { describeIssues } from '../../shared/field-path.ts';
import { annotation } from '../../shared/k8s/annotations.ts';
import { refuseUnknownFields } from '../../shared/k8s/known-fields.ts';
import {
  compareQuantities,
  formatQuantity,
  parseQuantity,
  type Quantity,
  quantityProblem,
} from '../../shared/k8s/quantity.ts';
import { annotationPrefixSetting, readSetting } from '../../shared/k8s/settings.ts';
import { defineMutation } from '../../shared/mutation.ts';
import {
  labelsMatch,
  type OversoldResource,
  parseCaps,
  parseRules,
  type Ratio,
  RESOURCES,
} from './rules-config.ts';

/** Results are rounded down to these steps (in nano-units): whole millicores, whole Ki or bytes. */
const CPU_STEP = 1_000_000n;
const KI_STEP = 1024n * 1_000_000_000n;
const BYTE_STEP = 1_000_000_000n;
const ONE: Ratio = { numerator: 1n, denominator: 1n };

const config = z
  .object({
    oversaleRules: z.string().default('').meta({
      description:
        'rules "<label>[=<value>]:cpu=<ratio>,memory=<ratio>" separated by ";" or new lines; the first matching the node applies',
      unset: 'nothing changes',
    }),
    oversaleMax: z.string().default('').meta({
      description: 'caps on the scaled allocatable: "cpu=<quantity>,memory=<quantity>"',
      unset: 'no cap',
    }),
    annotationPrefix: annotationPrefixSetting(
      'prefix of the <prefix>/oversale annotation that records the kubelet and scaled values',
    ),
  })
  .transform((c, ctx) => {
    return {
      rules: readSetting(ctx, 'oversaleRules', () => parseRules(c.oversaleRules), z.NEVER),
      caps: readSetting(ctx, 'oversaleMax', () => parseCaps(c.oversaleMax), z.NEVER),
      annotationKey: `${c.annotationPrefix}/oversale`,
    };
  });

type Values = Partial<Record<OversoldResource, string>>;
interface OversaleRecord {
  kubelet: Values;
  oversold: Values;
}
const recordValues = z
  .record(z.string(), z.string({ message: 'must be a quantity string' }), { message: 'must be an object' })
  .superRefine(refuseUnknownFields(RESOURCES, 'the record (resources)'))
  .superRefine((values, ctx) => {
    for (const [resource, value] of Object.entries(values)) {
      const problem = quantityProblem(value);
      if (problem) ctx.addIssue({ code: 'custom', path: [resource], message: problem });
    }
  });
const RECORD_FIELDS = ['kubelet', 'oversold'] as const;
const recordSchema = z
  .looseObject({ kubelet: recordValues.optional(), oversold: recordValues.optional() })
  .superRefine(refuseUnknownFields(RECORD_FIELDS, 'the record'))
  .superRefine((record, ctx) => {
    for (const field of RECORD_FIELDS) {
      if (record[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: 'is missing' });
    }
  });

/** The record, or what is wrong with it, naming the field. */
function readRecord(text: string | undefined): OversaleRecord | string | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'is not JSON ({"kubelet":{...},"oversold":{...}})';
  }
  const result = recordSchema.safeParse(value);
  if (!result.success)
    return `is not the record this function writes: ${describeIssues(result.error.issues)}`;
  return result.data as OversaleRecord;
}

/** `base` × `ratio`, rounded down to `step`, at most `cap`, never below `base`. */
function scaled(base: Quantity, ratio: Ratio, cap: Quantity | undefined, step: bigint): Quantity {
  let nanos = (base.nanos * ratio.numerator) / ratio.denominator;
  nanos -= nanos % step;
  if (cap && nanos > cap.nanos) nanos = cap.nanos;
  // Never below what the kubelet reported, whatever the cap.
  if (nanos < base.nanos) nanos = base.nanos;
  return { nanos, format: base.format };
}

const min = (a: Quantity, b: Quantity): Quantity => (a.nanos <= b.nanos ? a : b);

export default defineMutation({
  name: 'node-oversale',
  description: "Scales a node's allocatable cpu and memory by the ratio its labels select",
  summary: {
    reads: '`OVERSALE_RULES` by node label',
    writes: '`status.allocatable` cpu and memory of kubelet heartbeats',
  },
  appliesTo: { resources: ['nodes/status'], operations: ['UPDATE'] },
  config,
  webhook: {
    failurePolicy: 'Ignore',
    failurePolicyReason:
      "the kubelet's status update must never be refused; unreachable, the node reports its real allocatable until the next heartbeat, which only means less oversale",
  },

  mutate(node: V1Node, { config, warn }) {
    const status = node.status;
    const allocatable = status?.allocatable;
    if (!allocatable) return node;
    const key = config.annotationKey;
    const rule = config.rules.find((r) => labelsMatch(r.selector, node.metadata?.labels));
    let record = readRecord(annotation(node, key));
    if (typeof record === 'string') {
      warn(`node-oversale: annotation ${key} ${record}; ignored`);
      record = undefined;
    }

    const next: OversaleRecord = { kubelet: {}, oversold: {} };
    for (const resource of RESOURCES) {
      const ratio = rule?.ratios[resource];
      const recordedOversold = record?.oversold[resource];
      if (!ratio && recordedOversold === undefined) continue;
      const reported = allocatable[resource];
      if (reported === undefined) continue;
      let current: Quantity;
      try {
        current = parseQuantity(reported);
      } catch (error) {
        warn(`node-oversale: status.allocatable.${resource}: ${(error as Error).message}; left unchanged`);
        continue;
      }
      // The bound comes from this very request: the kubelet's capacity, which nobody scales.
      const capacity = quantityOrUndefined(status.capacity?.[resource]);
      if (!capacity || capacity.nanos < 0n) {
        warn(
          `node-oversale: status.capacity.${resource} is ${capacity ? 'negative' : 'missing or not a quantity'}; status.allocatable.${resource} left unchanged`,
        );
        continue;
      }
      const step = resource === 'cpu' ? CPU_STEP : current.format === 'BinarySI' ? KI_STEP : BYTE_STEP;
      const limit = scaled(capacity, ratio ?? ONE, config.caps[resource], step);

      let target: Quantity;
      let kubelet: string | undefined;
      let recorded: boolean;
      if (recordedOversold !== undefined && sameValue(current, recordedOversold)) {
        // The value this webhook wrote: kept, within what the node's capacity allows under the
        // rule now. The record only recognises it; its numbers are never used to compute.
        target = current.nanos < 0n ? { ...current, nanos: 0n } : min(current, limit);
        kubelet = record?.kubelet[resource] ?? formatQuantity(target);
        recorded = ratio !== undefined;
      } else if (current.nanos > capacity.nanos) {
        // The kubelet never reports more than capacity: someone else scaled this.
        warn(
          `node-oversale: status.allocatable.${resource} ${reported} is above status.capacity.${resource} and not the value this webhook wrote; left unchanged`,
        );
        continue;
      } else {
        // The kubelet's own value: scaled from itself, never from below zero.
        const base = current.nanos < 0n ? { ...current, nanos: 0n } : current;
        target = scaled(base, ratio ?? ONE, config.caps[resource], step);
        kubelet = formatQuantity(base);
        recorded = compareQuantities(target, base) !== 0;
      }

      if (compareQuantities(target, current) !== 0) allocatable[resource] = formatQuantity(target);
      if (recorded) {
        next.kubelet[resource] = kubelet;
        next.oversold[resource] = formatQuantity(target);
      }
    }

    const text = Object.keys(next.oversold).length > 0 ? JSON.stringify(next) : undefined;
    if (text !== undefined) {
      node.metadata ??= {};
      node.metadata.annotations ??= {};
      node.metadata.annotations[key] = text;
    } else if (annotation(node, key) !== undefined) {
      delete node.metadata?.annotations?.[key];
    }
    return node;
  },
});

function sameValue(current: Quantity, recorded: string): boolean {
  return compareQuantities(current, parseQuantity(recorded)) === 0;
}

function quantityOrUndefined(text: string | undefined): Quantity | undefined {
  if (text === undefined) return undefined;
  try {
    return parseQuantity(text);
  } catch {
    return undefined;
  }
}
