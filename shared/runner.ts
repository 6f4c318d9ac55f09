// Answers one AdmissionReview with one mutation, in one place for every function:
// skip what the mutation does not apply to, mutate a copy, diff it, build the reply; and
// observe it (span, metrics, log line) against the apiserver's time budget.
import type { AnyMutation, AppliesTo } from './mutation.ts';
import { Denial } from './mutation.ts';
import { changeCopy, diff } from './patch.ts';
import type { RequestInfo } from './request-info.ts';
import { type AdmissionReviewReply, allowReply, denyReply } from './response.ts';
import type { AdmissionRequest, AdmissionReview } from './review.ts';
import { observeReview, type ReviewResult } from './telemetry/observe.ts';

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

/**
 * Answers one review. `info` is what the transport knows about the HTTP request (trace
 * headers, the `?timeout=` budget, arrival time); the review is traced, counted and logged
 * against that budget (shared/telemetry/observe.ts).
 */
export function review(
  loaded: LoadedMutation,
  reviewed: AdmissionReview,
  info?: RequestInfo,
): AdmissionReviewReply {
  const observation = observeReview(loaded.mutation.name, reviewed.request, info);
  let answered: Answered;
  try {
    answered = answer(loaded, reviewed);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    observation.end({
      outcome: 'error',
      allowed: false,
      patchOperations: 0,
      status: { code: 500, message },
      error,
    });
    throw error;
  }
  observation.end(answered.result);
  return answered.reply;
}

interface Answered {
  reply: AdmissionReviewReply;
  result: ReviewResult;
}

function answer({ mutation, config }: LoadedMutation, reviewed: AdmissionReview): Answered {
  const { apiVersion, request } = reviewed;
  const object = request.object;
  if (!appliesTo(mutation.appliesTo, request) || object == null) {
    return allowed(allowReply(apiVersion, request.uid, []), 0);
  }
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
    const reply = denyReply(apiVersion, request.uid, { code, reason: reasonFor(code), message }, warnings);
    return {
      reply,
      result: { outcome: 'denied', allowed: false, patchOperations: 0, status: { code, message } },
    };
  }
  const patch = diff(object, changed);
  return allowed(allowReply(apiVersion, request.uid, patch, warnings), patch.length);
}

function allowed(reply: AdmissionReviewReply, patchOperations: number): Answered {
  const outcome = patchOperations > 0 ? 'patched' : 'allowed';
  return { reply, result: { outcome, allowed: true, patchOperations } };
}

/** A mutation that throws has a bug; its `onError` decides whether the object still gets in. */
function answerFailure(
  mutation: AnyMutation,
  { apiVersion, request }: AdmissionReview,
  error: unknown,
  warnings: string[],
): Answered {
  const detail = error instanceof Error ? error.message : String(error);
  const message = `${mutation.name}: internal error: ${detail}`;
  const failure = { outcome: 'error', patchOperations: 0, status: { code: 500, message }, error } as const;
  if (mutation.onError === 'allow') {
    const reply = allowReply(apiVersion, request.uid, [], [...warnings, `${message} (admitted unchanged)`]);
    return { reply, result: { ...failure, allowed: true } };
  }
  const reply = denyReply(apiVersion, request.uid, { code: 500, reason: 'InternalError', message }, warnings);
  return { reply, result: { ...failure, allowed: false } };
}

function reasonFor(code: number): string {
  if (code === 400) return 'BadRequest';
  if (code === 409) return 'Conflict';
  if (code === 422) return 'Invalid';
  if (code >= 500) return 'InternalError';
  return 'Forbidden';
}
