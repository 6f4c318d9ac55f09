// Answers one AdmissionReview with one mutation, in one place for every function:
// skip what the mutation does not apply to, mutate a copy, diff it, build the reply; and
// observe it (span, metrics, log line) against the apiserver's time budget.
import { boundedWarning, type Mode } from './mode.ts';
import type { AnyMutation, AppliesTo } from './mutation.ts';
import { Denial } from './mutation.ts';
import { changeCopy, diff } from './patch.ts';
import { type RequestInfo, webhookEntry } from './request-info.ts';
import {
  type AdmissionReviewReply,
  type AdmissionStatus,
  allowReply,
  denyReply,
  type Refusal,
} from './response.ts';
import type { AdmissionRequest, AdmissionReview, KubernetesObject } from './review.ts';
import { log } from './telemetry/log.ts';
import { observeReview, type ReviewResult } from './telemetry/observe.ts';

/** A mutation with its configuration loaded: what a deployed function serves. */
export interface LoadedMutation {
  readonly mutation: AnyMutation;
  readonly config: unknown;
  /** `monitor`: admit unchanged and warn what the function would have done (shared/mode.ts). */
  readonly mode?: Mode;
}

export function appliesTo(rule: AppliesTo, request: AdmissionRequest): boolean {
  if (!rule.operations.includes(request.operation)) return false;
  if (rule.groups && !rule.groups.includes(request.resource.group)) return false;
  if (rule.versions && !rule.versions.includes(request.resource.version)) return false;
  const resource = request.subResource
    ? `${request.resource.resource}/${request.subResource}`
    : request.resource.resource;
  return rule.resources.some((r) => r === resource || (r === '*' && !request.subResource));
}

/**
 * Answers one review. `info` is what the transport knows about the HTTP request (the
 * apiserver's timeout, trace headers, arrival time); the review is traced, counted and logged
 * against that budget (shared/telemetry/observe.ts).
 */
export function review(
  loaded: LoadedMutation,
  reviewed: AdmissionReview,
  info?: RequestInfo,
): AdmissionReviewReply {
  const entry = webhookEntry(info?.path, loaded.mutation.name);
  return observed(loaded.mutation.name, reviewed, info, () => answerReview(loaded, reviewed, entry));
}

/** A reply and what it stands for, for telemetry. */
export interface Answered {
  readonly reply: AdmissionReviewReply;
  readonly result: ReviewResult;
}

/** Produces the answer to a review under observation: every review, single or chained, passes here. */
export function observed(
  name: string,
  reviewed: AdmissionReview,
  info: RequestInfo | undefined,
  produce: () => Answered,
): AdmissionReviewReply {
  const observation = observeReview(name, reviewed.request, info);
  let answered: Answered;
  try {
    answered = produce();
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

/** The answer without telemetry (review() observes it); `entry`: see MutationContext.webhookEntry. */
export function answerReview(
  { mutation, config, mode }: LoadedMutation,
  reviewed: AdmissionReview,
  entry?: string,
): Answered {
  const { apiVersion, request } = reviewed;
  const object = request.object;
  if (!appliesTo(mutation.appliesTo, request) || object == null) {
    return allowedAnswer(apiVersion, request.uid, [], []);
  }
  const outcome = runMutation({ mutation, config, mode }, request, object, entry);
  if (outcome.monitored) {
    const answered = allowedAnswer(apiVersion, request.uid, [], outcome.warnings);
    return { ...answered, result: { ...answered.result, monitored: outcome.monitored } };
  }
  if (outcome.kind === 'failed') return answerFailure(mutation, reviewed, outcome.error, outcome.warnings);
  if (outcome.kind === 'denied')
    return deniedAnswer(reviewed, denialStatus(outcome.denial), outcome.warnings);
  return allowedAnswer(apiVersion, request.uid, diff(object, outcome.object), outcome.warnings);
}

/** An admission, `patched` when it carries a patch. */
export function allowedAnswer(
  apiVersion: AdmissionReview['apiVersion'],
  uid: string,
  patch: Parameters<typeof allowReply>[2],
  warnings: readonly string[],
  failure?: { status: AdmissionStatus; error: unknown },
): Answered {
  const reply = allowReply(apiVersion, uid, patch, warnings);
  const patchOperations = patch.length;
  if (failure) {
    const { status, error } = failure;
    return { reply, result: { outcome: 'error', allowed: true, patchOperations, status, error } };
  }
  return {
    reply,
    result: { outcome: patchOperations > 0 ? 'patched' : 'allowed', allowed: true, patchOperations },
  };
}

/** A refusal: `denied`, or `error` when the refusal is a failed mutation's. */
export function deniedAnswer(
  { apiVersion, request }: AdmissionReview,
  refusal: AdmissionStatus | Refusal,
  warnings: readonly string[],
  error?: unknown,
): Answered {
  const reply = denyReply(apiVersion, request.uid, refusal, warnings);
  // What the user reads, capped, is what telemetry records too.
  const status = reply.response.status as AdmissionStatus;
  const outcome = error === undefined ? 'denied' : 'error';
  return { reply, result: { outcome, allowed: false, patchOperations: 0, status, error } };
}

/**
 * What one mutation made of an object: a changed copy, a denial, or an exception (a bug).
 * In monitor mode always the object unchanged, with `monitored` saying what it would have been.
 */
export type MutationOutcome = (
  | { kind: 'changed'; object: KubernetesObject; warnings: string[] }
  | { kind: 'denied'; denial: Denial; warnings: string[] }
  | { kind: 'failed'; error: unknown; warnings: string[] }
) & { monitored?: MonitoredOutcome };

/** What a monitored function would have answered. */
export type MonitoredOutcome = 'allowed' | 'patched' | 'denied' | 'error';

/**
 * Runs one mutation on a copy-on-write copy of `object` (never changed itself). The copy
 * shares every subtree the mutation left alone, so diffing it against `object` is cheap.
 */
export function runMutation(
  loaded: LoadedMutation,
  request: AdmissionRequest,
  object: KubernetesObject,
  webhookEntry?: string,
): MutationOutcome {
  const outcome = enforcedOutcome(loaded, request, object, webhookEntry);
  return loaded.mode === 'monitor' ? monitoredOutcome(loaded.mutation, request, object, outcome) : outcome;
}

/** Monitor mode: the object unchanged, and a warning and a log line of what would have happened. */
function monitoredOutcome(
  mutation: AnyMutation,
  request: AdmissionRequest,
  object: KubernetesObject,
  outcome: MutationOutcome,
): MutationOutcome {
  let monitored: MonitoredOutcome;
  let would: string | undefined;
  if (outcome.kind === 'denied') {
    monitored = 'denied';
    would = `would deny (${outcome.denial.code}): ${outcome.denial.message}`;
  } else if (outcome.kind === 'failed') {
    const { message, admit } = describeFailure(mutation, outcome.error);
    monitored = 'error';
    would = `would fail and ${admit ? 'admit unchanged' : 'deny'}: ${message}`;
  } else {
    const patch = diff(object, outcome.object);
    monitored = patch.length > 0 ? 'patched' : 'allowed';
    if (patch.length > 0) {
      const shown = patch.slice(0, 5).map((op) => `${op.op} ${op.path}`);
      const more = patch.length > shown.length ? ` and ${patch.length - shown.length} more` : '';
      would = `would patch ${patch.length} operation(s): ${shown.join(', ')}${more}`;
    }
  }
  const warnings = [...outcome.warnings];
  if (would) {
    warnings.push(boundedWarning(`${mutation.name} (monitor mode) ${would}`));
    log().info(
      { function: mutation.name, uid: request.uid, mode: 'monitor', monitored_outcome: monitored },
      `monitor mode: ${would}`,
    );
  }
  return { kind: 'changed', object, warnings, monitored };
}

function enforcedOutcome(
  { mutation, config }: LoadedMutation,
  request: AdmissionRequest,
  object: KubernetesObject,
  webhookEntry?: string,
): MutationOutcome {
  const warnings: string[] = [];
  const warn = (message: string) => void warnings.push(message);
  const context = { request, config, webhookEntry, warn };
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
  // A validating function only judges: whatever it did to its copy is dropped, never patched.
  if (mutation.kind === 'validating') return { kind: 'changed', object, warnings };
  return { kind: 'changed', object: changed, warnings };
}

/** The refusal a denial is answered with: its code, the matching reason, its problems. */
export function denialStatus(denial: Denial, prefix = ''): Refusal {
  const { code, problems } = prefix ? denial.within(prefix) : denial;
  return { code, reason: reasonFor(code), problems };
}

/** A mutation that throws has a bug; its `onError` decides whether the object still gets in. */
export function describeFailure(mutation: AnyMutation, error: unknown): { message: string; admit: boolean } {
  const detail = error instanceof Error ? error.message : String(error);
  return { message: `${mutation.name}: internal error: ${detail}`, admit: mutation.onError === 'allow' };
}

function answerFailure(
  mutation: AnyMutation,
  reviewed: AdmissionReview,
  error: unknown,
  warnings: string[],
): Answered {
  const { message, admit } = describeFailure(mutation, error);
  const status: AdmissionStatus = { code: 500, reason: 'InternalError', message };
  if (admit) {
    const { apiVersion, request } = reviewed;
    return allowedAnswer(apiVersion, request.uid, [], [...warnings, `${message} (admitted unchanged)`], {
      status,
      error,
    });
  }
  return deniedAnswer(reviewed, status, warnings, error);
}

function reasonFor(code: number): string {
  if (code === 400) return 'BadRequest';
  if (code === 409) return 'Conflict';
  if (code === 422) return 'Invalid';
  if (code >= 500) return 'InternalError';
  return 'Forbidden';
}
