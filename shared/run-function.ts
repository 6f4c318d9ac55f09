// Runs one function on one object, the same way alone or in a chain: skip what it does not
// apply to, mutate a copy-on-write copy, and say what came of it (a changed copy, a denial, a
// failure); in monitor mode, the object unchanged and a warning of what would have happened.

import { Denial, reasonFor } from './denial.ts';
import type { Mode } from './mode.ts';
import { type AnyMutation, type AppliesTo, onErrorOf } from './mutation.ts';
import { changeCopy, diff } from './patch.ts';
import { boundedWarning, type Failure, type Outcome, type Refusal } from './response.ts';
import type { AdmissionRequest, KubernetesObject } from './review.ts';
import { log } from './telemetry/log.ts';

/** A function with its configuration loaded: what a deployed function serves. */
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
 * What one function made of an object: a changed copy, a denial, or a failure (a bug).
 * In monitor mode always the object unchanged, with `monitored` saying what it would have been.
 */
export type FunctionOutcome = (
  | { kind: 'changed'; object: KubernetesObject; warnings: string[] }
  | { kind: 'denied'; denial: Denial; warnings: string[] }
  | { kind: 'failed'; failure: Failure; warnings: string[] }
) & { monitored?: Outcome };

/**
 * Runs one function on a copy-on-write copy of `object` (never changed itself). The copy
 * shares every subtree the function left alone, so diffing it against `object` is cheap.
 */
export function runFunction(
  loaded: LoadedMutation,
  request: AdmissionRequest,
  object: KubernetesObject,
  webhookEntry?: string,
): FunctionOutcome {
  const outcome = enforcedOutcome(loaded, request, object, webhookEntry);
  return loaded.mode === 'monitor' ? monitoredOutcome(loaded, request, object, outcome) : outcome;
}

/** Monitor mode: the object unchanged, and a warning and a log line of what would have happened. */
function monitoredOutcome(
  loaded: LoadedMutation,
  request: AdmissionRequest,
  object: KubernetesObject,
  outcome: FunctionOutcome,
): FunctionOutcome {
  const { mutation } = loaded;
  let monitored: Outcome;
  let would: string | undefined;
  if (outcome.kind === 'denied') {
    monitored = 'denied';
    would = `would deny (${outcome.denial.code}): ${outcome.denial.message}`;
  } else if (outcome.kind === 'failed') {
    monitored = 'error';
    const admit = admitsFailure(loaded);
    would = `would fail and ${admit ? 'admit unchanged' : 'deny'}: ${outcome.failure.message}`;
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
): FunctionOutcome {
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
    return { kind: 'failed', failure: failureOf(mutation, error), warnings };
  }
  if (denial) return { kind: 'denied', denial, warnings };
  // A validating function only judges: whatever it did to its copy is dropped, never patched.
  if (mutation.kind === 'validating') return { kind: 'changed', object, warnings };
  return { kind: 'changed', object: changed, warnings };
}

/** Whether a failure of this function is admitted (its onError, or what its failurePolicy implies). */
export function admitsFailure({ mutation, config }: LoadedMutation): boolean {
  return onErrorOf(mutation, config) === 'allow';
}

/** A function that throws has a bug: the message says which, and what it threw. */
function failureOf(mutation: AnyMutation, error: unknown): Failure {
  const detail = error instanceof Error ? error.message : String(error);
  return { message: `${mutation.name}: internal error: ${detail}`, error };
}

/** The refusal a denial is answered with: its code, the reason of that code, its problems. */
export function refusalOf(denial: Denial): Refusal {
  return { code: denial.code, reason: reasonFor(denial.code), problems: denial.problems };
}
