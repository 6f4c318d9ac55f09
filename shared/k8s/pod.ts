// The parts of a pod (or pod template) the annotation-driven functions change. The apiserver
// only sends well-typed pods, but a function must not throw on anything else: it refuses it.
import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import { z } from 'zod';
import { describeIssues } from '../review.ts';

/** A pod, or a pod template (a Knative revision template). */
export interface PodShaped {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

const named = z.looseObject({ name: z.string() });
const podSpecParts = z.looseObject({
  containers: z.array(
    named.extend({ volumeMounts: z.array(z.looseObject({ mountPath: z.string() })).nullish() }),
  ),
  volumes: z.array(named).nullish(),
  nodeSelector: z.record(z.string(), z.string()).nullish(),
});

/** What is wrong with the pod's spec where these functions work on it, or undefined. */
export function podSpecProblem(pod: PodShaped): string | undefined {
  const result = podSpecParts.safeParse(pod.spec);
  return result.success ? undefined : describeIssues(result.error.issues, 'spec');
}
