// Answers one AdmissionReview with one mutation, in one place for every function:
// skip what the mutation does not apply to, mutate a copy, diff it, build the reply.
import { trace } from '@opentelemetry/api';
import type { AnyMutation, AppliesTo } from './mutation.ts';
import { Denial } from './mutation.ts';
import { changeCopy, diff } from './patch.ts';
import { type AdmissionReviewReply, allowReply, denyReply } from './response.ts';
import type { AdmissionRequest, AdmissionReview } from './review.ts';

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
      const warnings: string[] = [];
      const context = { request, config, warn: (message: string) => void warnings.push(message) };
      let denial: Denial | undefined;
      let changed: typeof object;
      try {
        changed = changeCopy(object, (draft) => {
          const result = mutation.mutate(draft, context);
          if (!(result instanceof Denial)) return result;
          denial = result;
          return undefined;
        });
      } catch (error) {
        return answerFailure(mutation, reviewed, error, warnings);
      }
      if (denial) {
        const { code, message } = denial;
        return denyReply(apiVersion, request.uid, { code, reason: reasonFor(code), message }, warnings);
      }
      return allowReply(apiVersion, request.uid, diff(object, changed), warnings);
    } finally {
      span.end();
    }
  });
}

/** A mutation that throws has a bug; its `onError` decides whether the object still gets in. */
function answerFailure(
  mutation: AnyMutation,
  { apiVersion, request }: AdmissionReview,
  error: unknown,
  warnings: string[],
): AdmissionReviewReply {
  const detail = error instanceof Error ? error.message : String(error);
  const message = `${mutation.name}: internal error: ${detail}`;
  if (mutation.onError === 'allow') {
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
