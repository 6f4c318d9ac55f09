// One hop for many: several mutations answered in one call. The apiserver calls mutating
// webhooks one after another, so N functions cost N round trips; a chain runs them in one
// process instead, each on the output of the one before, and answers with one patch diffed
// once against the original object.
import { diff } from './patch.ts';
import type { RequestInfo } from './request-info.ts';
import type { AdmissionReviewReply, AdmissionStatus } from './response.ts';
import type { AdmissionReview } from './review.ts';
import {
  type Answered,
  allowedAnswer,
  appliesTo,
  denialStatus,
  deniedAnswer,
  describeFailure,
  type LoadedMutation,
  observed,
  runMutation,
} from './runner.ts';

export interface LoadedChain {
  /** The name it is served under (its path). */
  readonly name: string;
  /** Run in this order. */
  readonly steps: readonly LoadedMutation[];
}

/** Answers a review with the chain, observed (span, metrics, log line) under the chain's name. */
export function reviewChain(
  chain: LoadedChain,
  reviewed: AdmissionReview,
  info?: RequestInfo,
): AdmissionReviewReply {
  return observed(chain.name, reviewed, info, () => answerChain(chain, reviewed));
}

/** The chain's answer without telemetry (reviewChain() observes it). */
export function answerChain(chain: LoadedChain, reviewed: AdmissionReview): Answered {
  const { apiVersion, request } = reviewed;
  const original = request.object;
  if (original == null) return allowedAnswer(apiVersion, request.uid, [], []);
  const warnings: string[] = [];
  // The first failure a step's onError admitted: the answer still counts as an error.
  let failure: { status: AdmissionStatus; error: unknown } | undefined;
  let current = original;
  for (const step of chain.steps) {
    const { mutation } = step;
    if (!appliesTo(mutation.appliesTo, request)) continue;
    const outcome = runMutation(step, request, current);
    warnings.push(...outcome.warnings);
    if (outcome.kind === 'denied') {
      // The first denial wins; its message says which function refused, since the user
      // sees one webhook (the chain) and not the function behind it.
      return deniedAnswer(reviewed, denialStatus(outcome.denial, `${mutation.name}: `), warnings);
    }
    if (outcome.kind === 'failed') {
      const { message, admit } = describeFailure(mutation, outcome.error);
      const status: AdmissionStatus = { code: 500, reason: 'InternalError', message };
      if (!admit) return deniedAnswer(reviewed, status, warnings, outcome.error);
      failure ??= { status, error: outcome.error };
      warnings.push(`${message} (its changes are left out; the rest of the chain applies)`);
      continue;
    }
    current = outcome.object;
  }
  return allowedAnswer(apiVersion, request.uid, diff(original, current), warnings, failure);
}
