// Answers one AdmissionReview with one mutation, in one place for every function:
// skip what the mutation does not apply to, mutate a copy, diff it, build the reply.
import { trace } from '@opentelemetry/api';
import type { AnyMutation, AppliesTo } from './mutation.ts';
import { Denial } from './mutation.ts';
import { changeCopy, diff } from './patch.ts';
import { type AdmissionReviewReply, type AdmissionStatus, allowReply, denyReply } from './response.ts';
import type { AdmissionRequest, AdmissionReview, KubernetesObject } from './review.ts';

const tracer = trace.getTracer('faas-admission');

/** A mutation with its configuration loaded: what a deployed function serves. */
export interface LoadedMutation {
  readonly mutation: AnyMutation;
  readonly config: unknown;
}

export function appliesTo(rule: AppliesTo, request: AdmissionRequest): boolean {
  if (!rule.operations.includes(request.operation)) return false;
  const resource = request.subResource
    ? `${request.resource.resource}/${request.subResource}`
    : request.resource.resource;
  return rule.resources.some((r) => r === resource || (r === '*' && !request.subResource));
}

export function review(
  { mutation, config }: LoadedMutation,
  reviewed: AdmissionReview,
): AdmissionReviewReply {
  const { apiVersion, request } = reviewed;
  const object = request.object;
  if (!appliesTo(mutation.appliesTo, request) || object == null) {
    return allowReply(apiVersion, request.uid, []);
  }
  return tracer.startActiveSpan(`admission ${mutation.name}`, (span) => {
    try {
      const outcome = runMutation({ mutation, config }, request, object);
      if (outcome.kind === 'failed')
        return answerFailure(mutation, reviewed, outcome.error, outcome.warnings);
      if (outcome.kind === 'denied') {
        return denyReply(apiVersion, request.uid, denialStatus(outcome.denial), outcome.warnings);
      }
      return allowReply(apiVersion, request.uid, diff(object, outcome.object), outcome.warnings);
    } finally {
      span.end();
    }
  });
}

/** What one mutation made of an object: a changed copy, a denial, or an exception (a bug). */
export type MutationOutcome =
  | { kind: 'changed'; object: KubernetesObject; warnings: string[] }
  | { kind: 'denied'; denial: Denial; warnings: string[] }
  | { kind: 'failed'; error: unknown; warnings: string[] };

/**
 * Runs one mutation on a copy-on-write copy of `object` (never changed itself). The copy
 * shares every subtree the mutation left alone, so diffing it against `object` is cheap.
 */
export function runMutation(
  { mutation, config }: LoadedMutation,
  request: AdmissionRequest,
  object: KubernetesObject,
): MutationOutcome {
  const warnings: string[] = [];
  const context = { request, config, warn: (message: string) => void warnings.push(message) };
  let denial: Denial | undefined;
  let changed: KubernetesObject;
  try {
    changed = changeCopy(object, (draft) => {
      const result = mutation.mutate(draft, context);
      if (!(result instanceof Denial)) return result;
      denial = result;
      return undefined;
    });
  } catch (error) {
    return { kind: 'failed', error, warnings };
  }
  if (denial) return { kind: 'denied', denial, warnings };
  return { kind: 'changed', object: changed, warnings };
}

/** The status a denial is answered with: its code, the matching reason, its message. */
export function denialStatus({ code, message }: Denial, prefix = ''): AdmissionStatus {
  return { code, reason: reasonFor(code), message: prefix + message };
}

/** A mutation that throws has a bug; its `onError` decides whether the object still gets in. */
export function describeFailure(mutation: AnyMutation, error: unknown): { message: string; admit: boolean } {
  const detail = error instanceof Error ? error.message : String(error);
  return { message: `${mutation.name}: internal error: ${detail}`, admit: mutation.onError === 'allow' };
}

function answerFailure(
  mutation: AnyMutation,
  { apiVersion, request }: AdmissionReview,
  error: unknown,
  warnings: string[],
): AdmissionReviewReply {
  const { message, admit } = describeFailure(mutation, error);
  if (admit) {
    return allowReply(apiVersion, request.uid, [], [...warnings, `${message} (admitted unchanged)`]);
  }
  return denyReply(apiVersion, request.uid, { code: 500, reason: 'InternalError', message }, warnings);
}

function reasonFor(code: number): string {
  if (code === 400) return 'BadRequest';
  if (code === 409) return 'Conflict';
  if (code === 422) return 'Invalid';
  if (code >= 500) return 'InternalError';
  return 'Forbidden';
}
