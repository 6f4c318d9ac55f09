// One hop for many: several mutations answered in one call. The apiserver calls mutating
// webhooks one after another, so N functions cost N round trips; a chain runs them in one
// process instead, each on the output of the one before, and answers with one patch diffed
// once against the original object.
import { diff } from './patch.ts';
import { type AdmissionReviewReply, allowReply, denyReply } from './response.ts';
import type { AdmissionReview } from './review.ts';
import { appliesTo, denialStatus, describeFailure, type LoadedMutation, runMutation } from './runner.ts';

export interface LoadedChain {
  /** The name it is served under (its path). */
  readonly name: string;
  /** Run in this order. */
  readonly steps: readonly LoadedMutation[];
}

export function reviewChain(chain: LoadedChain, reviewed: AdmissionReview): AdmissionReviewReply {
  const { apiVersion, request } = reviewed;
  const original = request.object;
  if (original == null) return allowReply(apiVersion, request.uid, []);
  const warnings: string[] = [];
  let current = original;
  for (const step of chain.steps) {
    const { mutation } = step;
    if (!appliesTo(mutation.appliesTo, request)) continue;
    const outcome = runMutation(step, request, current);
    warnings.push(...outcome.warnings);
    if (outcome.kind === 'denied') {
      // The first denial wins; its message says which function refused, since the user
      // sees one webhook (the chain) and not the function behind it.
      const status = denialStatus(outcome.denial, `${mutation.name}: `);
      return denyReply(apiVersion, request.uid, status, warnings);
    }
    if (outcome.kind === 'failed') {
      const { message, admit } = describeFailure(mutation, outcome.error);
      if (!admit) {
        return denyReply(apiVersion, request.uid, { code: 500, reason: 'InternalError', message }, warnings);
      }
      warnings.push(`${message} (its changes are left out; the rest of the chain applies)`);
      continue;
    }
    current = outcome.object;
  }
  return allowReply(apiVersion, request.uid, diff(original, current), warnings);
}
