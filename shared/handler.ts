// One interface for whatever answers a review (a function, mutating or validating, and a chain
// of functions): a review in, a response out. serveReview() completes the response and observes
// it (span, metrics, log line) against the apiserver's time budget; every review served passes there.
import { diff } from './patch.ts';
import { type RequestInfo, webhookEntry } from './request-info.ts';
import {
  type AdmissionReviewReply,
  allowed,
  completeResponse,
  denied,
  errored,
  type Failure,
  patched,
  type Response,
} from './response.ts';
import type { AdmissionReview } from './review.ts';
import { admitsFailure, appliesTo, type LoadedMutation, refusalOf, runFunction } from './run-function.ts';
import { observeReview } from './telemetry/observe.ts';

export type { LoadedMutation };

export interface ReviewHandler {
  /** The name it is served and observed under (its path). */
  readonly name: string;
  /** The functions it runs, in order: one for a function, several for a chain. */
  readonly functions: readonly string[];
  /**
   * The response to `review`, not yet observed. `path`: where it was posted, which names the
   * registration entry a function was called on (`/<function>/<entry>`).
   */
  respond(review: AdmissionReview, path?: string): Response;
}

/** A function served alone: its denial as it is, a failure as its onError says. */
export interface FunctionHandler extends ReviewHandler {
  readonly loaded: LoadedMutation;
}

export function functionHandler(loaded: LoadedMutation): FunctionHandler {
  const { mutation } = loaded;
  return {
    name: mutation.name,
    functions: [mutation.name],
    loaded,
    respond({ request }, path) {
      const object = request.object;
      if (!appliesTo(mutation.appliesTo, request) || object == null) return allowed();
      const outcome = runFunction(loaded, request, object, webhookEntry(path, mutation.name));
      if (outcome.monitored) return { ...allowed(outcome.warnings), monitored: outcome.monitored };
      const { warnings } = outcome;
      if (outcome.kind === 'denied') return denied(refusalOf(outcome.denial), warnings);
      if (outcome.kind === 'failed') {
        if (!admitsFailure(loaded)) return errored(outcome.failure, warnings);
        return errored(outcome.failure, [...warnings, `${outcome.failure.message} (admitted unchanged)`], {
          patch: [],
        });
      }
      return patched(diff(object, outcome.object), warnings);
    },
  };
}

/**
 * One hop for many: several functions answered in one call. The apiserver calls mutating
 * webhooks one after another, so N functions cost N round trips; a chain runs them in one
 * process instead, each on the output of the one before, and answers with one patch diffed
 * once against the original object.
 */
export interface ChainHandler extends ReviewHandler {
  /** Run in this order. */
  readonly steps: readonly LoadedMutation[];
}

export function chainHandler(name: string, steps: readonly LoadedMutation[]): ChainHandler {
  return {
    name,
    functions: steps.map((step) => step.mutation.name),
    steps,
    respond({ request }) {
      const original = request.object;
      if (original == null) return allowed();
      const warnings: string[] = [];
      // The first failure a step's onError admitted: the answer still counts as an error.
      let failure: Failure | undefined;
      let current = original;
      for (const step of steps) {
        const { mutation } = step;
        if (!appliesTo(mutation.appliesTo, request)) continue;
        const outcome = runFunction(step, request, current);
        warnings.push(...outcome.warnings);
        if (outcome.kind === 'denied') {
          // The first denial wins; its message says which function refused, since the user
          // sees one webhook (the chain) and not the function behind it.
          return denied(refusalOf(outcome.denial.within(mutation.name)), warnings);
        }
        if (outcome.kind === 'failed') {
          if (!admitsFailure(step)) return errored(outcome.failure, warnings);
          failure ??= outcome.failure;
          warnings.push(
            `${outcome.failure.message} (its changes are left out; the rest of the chain applies)`,
          );
          continue;
        }
        current = outcome.object;
      }
      const patch = diff(original, current);
      return failure ? errored(failure, warnings, { patch }) : patched(patch, warnings);
    },
  };
}

/**
 * Answers a review, observed: one span (continuing the caller's trace), the metrics and a log
 * line, against the budget `info` tells (the apiserver's timeout, trace headers, arrival time).
 */
export function serveReview(
  handler: ReviewHandler,
  review: AdmissionReview,
  info: RequestInfo = {},
): AdmissionReviewReply {
  const observation = observeReview(handler.name, review.request, info);
  let response: Response;
  try {
    response = handler.respond(review, info.path);
  } catch (error) {
    observation.end(errored({ message: error instanceof Error ? error.message : String(error), error }));
    throw error;
  }
  observation.end(response);
  return completeResponse(review, response);
}

/**
 * The reply `handler` would give to `review`, without counting, tracing or logging it: for
 * previews (the standalone server looking for a sample to suggest), never for requests.
 */
export function previewReply(handler: ReviewHandler, review: AdmissionReview): AdmissionReviewReply {
  return completeResponse(review, handler.respond(review));
}
