// The parts of a pod spec the functions read and change: containers of every list (name,
// image, volumeMounts, env), volumes and nodeSelector. The apiserver only sends well-typed pods,
// but a function must never throw on anything else: such a pod is refused naming the field.
import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import { z } from 'zod';
import { describeIssues } from '../review.ts';

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

/** What is wrong with `spec` as a pod spec, its fields written under `prefix`, or undefined. */
export function podSpecProblem(spec: unknown, prefix = 'spec'): string | undefined {
  const result = podSpecSchema.safeParse(spec);
  return result.success ? undefined : describeIssues(result.error.issues, prefix);
}
