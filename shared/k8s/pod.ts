// The parts of a pod spec the functions read and change: containers of every list (name,
// image, volumeMounts, env), volumes and nodeSelector. The apiserver only sends well-typed pods,
// but a function must never throw on anything else: such a pod is refused naming the field.
import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import { isDraft, original } from 'immer';
import * as z from 'zod';
import { type Denial, invalid } from '../denial.ts';
import { describeIssues } from '../field-path.ts';

/** A pod, or a pod template (a Knative revision template). */
export interface PodShaped {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

const named = z.looseObject({ name: z.string() });
const container = named.extend({
  image: z.string().optional(),
  volumeMounts: z.array(z.looseObject({ name: z.string(), mountPath: z.string() })).nullish(),
  env: z.array(named).nullish(),
});

export const podSpecSchema = z.looseObject({
  containers: z.array(container),
  initContainers: z.array(container).nullish(),
  ephemeralContainers: z.array(container).nullish(),
  volumes: z.array(named).nullish(),
  nodeSelector: z.record(z.string(), z.string()).nullish(),
});

/**
 * The same test as podSpecSchema, by hand: it allocates nothing, where zod builds a copy of
 * every container and env entry (5 MB for a 1 MiB pod). zod is asked only to name a problem.
 */
export function isPodSpec(value: unknown): boolean {
  if (!isObject(value) || !listOf(value.containers, isContainer)) return false;
  return (
    nullishOr(value.initContainers, (v) => listOf(v, isContainer)) &&
    nullishOr(value.ephemeralContainers, (v) => listOf(v, isContainer)) &&
    nullishOr(value.volumes, (v) => listOf(v, isNamed)) &&
    nullishOr(value.nodeSelector, (v) => isObject(v) && Object.values(v).every(isString))
  );
}

type Fields = Record<string, unknown>;
const isObject = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const listOf = (v: unknown, item: (x: unknown) => boolean) => Array.isArray(v) && v.every(item);
const nullishOr = (v: unknown, test: (x: unknown) => boolean) => v === undefined || v === null || test(v);
const isNamed = (v: unknown): v is Fields => isObject(v) && isString(v.name);
const isMount = (v: unknown) => isNamed(v) && isString(v.mountPath);
const isContainer = (v: unknown) =>
  isNamed(v) &&
  (v.image === undefined || isString(v.image)) &&
  nullishOr(v.volumeMounts, (m) => listOf(m, isMount)) &&
  nullishOr(v.env, (e) => listOf(e, isNamed));

/** What is wrong with `spec` as a pod spec, its fields written under `prefix`, or undefined. */
export function podSpecProblem(spec: unknown, prefix = 'spec'): string | undefined {
  // A copy-on-write draft is checked through its original: walking the draft itself would make
  // a draft of every container and env entry, 25 ms for a 1 MiB pod. Functions check before
  // they change anything, so the original is what they are about to change.
  const plain: unknown = isDraft(spec) ? original(spec) : spec;
  if (isPodSpec(plain)) return undefined;
  const result = podSpecSchema.safeParse(plain);
  return result.success ? undefined : describeIssues(result.error.issues, prefix);
}

/** The refusal of a pod without a spec: nothing of it can be read or changed. */
export function noSpecDenial(): Denial {
  return invalid('the pod has no spec');
}

/** The refusal of a pod whose spec is missing or of the wrong shape, or undefined for a usable one. */
export function unusableSpecDenial(pod: PodShaped): Denial | undefined {
  if (!pod.spec) return noSpecDenial();
  const problem = podSpecProblem(pod.spec);
  return problem ? invalid(`the pod cannot take the annotations: ${problem}`) : undefined;
}
