// The AdmissionReview envelope (admission.k8s.io/v1 and v1beta1), checked with zod.
// Only the envelope and the parts of `object`/`oldObject` every object has are checked; the
// rest passes through untouched, so no field of the admitted object is ever stripped, and
// large objects cost nothing here.
import * as z from 'zod';
import { HttpError } from './errors.ts';
import { describeIssues } from './field-path.ts';
import { podSpecProblem } from './k8s/pod.ts';

export const ADMISSION_VERSIONS = ['admission.k8s.io/v1', 'admission.k8s.io/v1beta1'] as const;
export type AdmissionVersion = (typeof ADMISSION_VERSIONS)[number];

const groupVersionKind = z.object({ group: z.string(), version: z.string(), kind: z.string() });
const groupVersionResource = z.object({ group: z.string(), version: z.string(), resource: z.string() });

const userInfo = z.object({
  username: z.string().optional(),
  uid: z.string().optional(),
  groups: z.array(z.string()).nullish(),
  extra: z.record(z.string(), z.array(z.string()).nullable()).nullish(),
});

// What the apiserver guarantees of any object it sends (it has decoded it already): string
// apiVersion and kind, an object for metadata, string maps for labels and annotations.
// Checked so that no function meets `metadata: "x"`; everything else passes through as it is.
const stringMap = z.record(z.string(), z.string()).nullish();
const kubernetesObject = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.looseObject({ labels: stringMap, annotations: stringMap }).nullish(),
});

export const admissionRequestSchema = z.looseObject({
  uid: z.string().min(1, 'must be a non-empty string'),
  kind: groupVersionKind,
  resource: groupVersionResource,
  subResource: z.string().optional(),
  requestKind: groupVersionKind.nullish(),
  requestResource: groupVersionResource.nullish(),
  requestSubResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(['CREATE', 'UPDATE', 'DELETE', 'CONNECT']),
  userInfo: userInfo.optional(),
  object: kubernetesObject.nullish(),
  oldObject: kubernetesObject.nullish(),
  dryRun: z.boolean().nullish(),
  options: z.unknown().optional(),
});

export const admissionReviewSchema = z.object({
  apiVersion: z.enum(ADMISSION_VERSIONS),
  kind: z.literal('AdmissionReview'),
  request: admissionRequestSchema,
});

export type AdmissionRequest = z.infer<typeof admissionRequestSchema>;
export type AdmissionReview = z.infer<typeof admissionReviewSchema>;
export type Operation = AdmissionRequest['operation'];
export type KubernetesObject = z.infer<typeof kubernetesObject>;

/** Checks the envelope; a malformed one is an HTTP 400 whose message names the field. */
export function parseAdmissionReview(body: unknown): AdmissionReview {
  const result = admissionReviewSchema.safeParse(body);
  if (!result.success) {
    throw new HttpError(400, `invalid AdmissionReview: ${describeIssues(result.error.issues)}`);
  }
  const { request } = result.data;
  if (isPodRequest(request)) {
    for (const key of ['object', 'oldObject'] as const) {
      const spec = request[key]?.spec;
      const problem = spec == null ? undefined : podSpecProblem(spec, `request.${key}.spec`);
      if (problem) throw new HttpError(400, `invalid AdmissionReview: ${problem}`);
    }
  }
  return result.data;
}

/**
 * Whether the object is a pod. Functions match requests by resource and the apiserver keeps
 * kind and resource consistent, but a client that does not (kind "Pod" misspelt, resource
 * `pods`) must still never hand a function a pod of the wrong shape: either one is enough.
 */
function isPodRequest({ kind, resource, subResource }: AdmissionRequest): boolean {
  if (kind.group === '' && kind.kind === 'Pod') return true;
  return resource.group === '' && resource.resource === 'pods' && !subResource;
}
