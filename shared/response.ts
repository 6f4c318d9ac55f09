// What a handler answers a review with, in four words (allowed, patched, denied, errored), and
// the one place that completes it into the AdmissionReview the apiserver expects back: the same
// apiVersion, the uid echoed, a JSONPatch as base64, warnings, and for a refusal a status with
// code, reason and a capped message. Telemetry reads its outcome from the same response.
import type { Operation as PatchOperation } from 'fast-json-patch';
import type { AdmissionVersion } from './review.ts';

export interface AdmissionStatus {
  code: number;
  reason?: string;
  message: string;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewReply {
  apiVersion: AdmissionVersion;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** How a review ended, as telemetry counts it. */
export type Outcome = 'allowed' | 'patched' | 'denied' | 'error';

/** A refusal before it is answered: its code and reason, its problems in order, each a complete sentence. */
export interface Refusal {
  readonly code: number;
  readonly reason: string;
  readonly problems: readonly string[];
}

/** A function that threw (a bug, not bad input): what the user reads, and what was thrown. */
export interface Failure {
  readonly message: string;
  readonly error: unknown;
}

/** A handler's answer to a review, before it is completed for that review (completeResponse). */
export interface Response {
  readonly allowed: boolean;
  readonly patch: readonly PatchOperation[];
  readonly warnings: readonly string[];
  /** Why it is refused (a denial). */
  readonly refusal?: Refusal;
  /** A function failed: refused with a 500, or admitted all the same when its onError says so. */
  readonly failure?: Failure;
  /** In monitor mode, what the answer would have been (the answer itself is an admission). */
  readonly monitored?: Outcome;
}

export function allowed(warnings: readonly string[] = []): Response {
  return { allowed: true, patch: [], warnings };
}

/** Admitted with `patch` (with none, simply allowed). */
export function patched(patch: readonly PatchOperation[], warnings: readonly string[] = []): Response {
  return { allowed: true, patch, warnings };
}

export function denied(refusal: Refusal, warnings: readonly string[] = []): Response {
  return { allowed: false, patch: [], warnings, refusal };
}

/** A failure: refused with a 500, or, `admitted`, let through with `patch` (often none). */
export function errored(
  failure: Failure,
  warnings: readonly string[] = [],
  admitted?: { patch: readonly PatchOperation[] },
): Response {
  return admitted
    ? { allowed: true, patch: admitted.patch, warnings, failure }
    : { allowed: false, patch: [], warnings, failure };
}

export function outcomeOf(response: Response): Outcome {
  if (response.failure) return 'error';
  if (!response.allowed) return 'denied';
  return response.patch.length > 0 ? 'patched' : 'allowed';
}

/** The status a refusal or failure is answered (or, admitted, recorded) with; the message capped. */
export function statusOf(response: Response): AdmissionStatus | undefined {
  const { refusal, failure } = response;
  if (refusal)
    return { code: refusal.code, reason: refusal.reason, message: denialMessage(refusal.problems) };
  if (failure) return { code: 500, reason: 'InternalError', message: denialMessage([failure.message]) };
  return undefined;
}

/** The AdmissionReview answering `review` with `response`: every reply of every function is made here. */
export function completeResponse(
  review: { readonly apiVersion: AdmissionVersion; readonly request: { readonly uid: string } },
  response: Response,
): AdmissionReviewReply {
  const reply: AdmissionResponse = { uid: review.request.uid, allowed: response.allowed };
  if (response.patch.length > 0) {
    reply.patchType = 'JSONPatch';
    reply.patch = Buffer.from(JSON.stringify(response.patch)).toString('base64');
  }
  const status = response.allowed ? undefined : statusOf(response);
  if (status) reply.status = status;
  if (response.warnings.length > 0) {
    // Functions of a chain may say the same thing (an unknown annotation): once is enough.
    reply.warnings = [...new Set(response.warnings)].map(boundedWarning);
  }
  return { apiVersion: review.apiVersion, kind: 'AdmissionReview', response: reply };
}

// The apiserver truncates each warning at 256 characters and drops the rest of a long list;
// cut them here so what reaches kubectl is what we chose to say.
const MAX_WARNING_LENGTH = 256;

/** A warning within the apiserver's limit: cut with "…" rather than truncated mid-word by it. */
export function boundedWarning(text: string): string {
  return text.length <= MAX_WARNING_LENGTH ? text : `${text.slice(0, MAX_WARNING_LENGTH - 1)}…`;
}

/**
 * What a denial may say at most. One annotation of thousands of broken items would otherwise
 * make a message of megabytes, in every FailedCreate event and log line; the first problems
 * tell the user what to fix, and the count tells how much is left.
 */
export const MAX_DENIAL_LENGTH = 2048;

/**
 * The problems joined with "; ", as many whole ones as fit in `limit` characters, then how
 * many more there were. A first problem longer than the limit is cut (it still says how many
 * characters and problems were left out).
 */
export function denialMessage(problems: readonly string[], limit = MAX_DENIAL_LENGTH): string {
  const full = problems.join('; ');
  if (full.length <= limit) return full;
  const more = (n: number) => (n === 0 ? '' : `; … and ${n} more ${n === 1 ? 'problem' : 'problems'}`);
  let message = '';
  let kept = 0;
  for (const problem of problems) {
    const next = kept === 0 ? problem : `${message}; ${problem}`;
    if (next.length + more(problems.length - kept - 1).length > limit) break;
    message = next;
    kept++;
  }
  if (kept > 0) return message + more(problems.length - kept);
  const first = problems[0] ?? '';
  const tail = ` … (${first.length - limit} more characters)${more(problems.length - 1)}`;
  const head = first.slice(0, Math.max(0, limit - tail.length - 20));
  return `${head} … (${first.length - head.length} more characters)${more(problems.length - 1)}`;
}

/** Decodes a reply's patch (for the CLI and tests). */
export function decodePatch(response: AdmissionResponse): PatchOperation[] {
  if (!response.patch) return [];
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as PatchOperation[];
}
