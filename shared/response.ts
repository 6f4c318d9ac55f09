// Builds the AdmissionReview the apiserver expects back: same apiVersion, the uid echoed,
// a JSONPatch as base64, warnings, and for a denial a status with code and message.
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

// The apiserver truncates each warning at 256 characters and drops the rest of a long list;
// cut them here so what reaches kubectl is what we chose to say.
const MAX_WARNING_LENGTH = 256;

function withWarnings(response: AdmissionResponse, warnings: readonly string[]): AdmissionResponse {
  if (warnings.length > 0) {
    // Functions of a chain may say the same thing (an unknown annotation): once is enough.
    response.warnings = [...new Set(warnings)].map((w) =>
      w.length > MAX_WARNING_LENGTH ? `${w.slice(0, MAX_WARNING_LENGTH - 1)}…` : w,
    );
  }
  return response;
}

export function allowReply(
  apiVersion: AdmissionVersion,
  uid: string,
  patch: readonly PatchOperation[],
  warnings: readonly string[] = [],
): AdmissionReviewReply {
  const response: AdmissionResponse = { uid, allowed: true };
  if (patch.length > 0) {
    response.patchType = 'JSONPatch';
    response.patch = Buffer.from(JSON.stringify(patch)).toString('base64');
  }
  return { apiVersion, kind: 'AdmissionReview', response: withWarnings(response, warnings) };
}

/** A refusal before it is answered: its problems, in order, each a complete sentence. */
export interface Refusal {
  code: number;
  reason?: string;
  problems: readonly string[];
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

/**
 * A denial. Every denial of every function passes here, so here is where its message is capped
 * (MAX_DENIAL_LENGTH): `status` is a refusal's problems, or a message of its own (an internal
 * error), capped the same way.
 */
export function denyReply(
  apiVersion: AdmissionVersion,
  uid: string,
  refusal: AdmissionStatus | Refusal,
  warnings: readonly string[] = [],
): AdmissionReviewReply {
  const problems = 'problems' in refusal ? refusal.problems : [refusal.message];
  const status: AdmissionStatus = { code: refusal.code, message: denialMessage(problems) };
  if (refusal.reason !== undefined) status.reason = refusal.reason;
  const response: AdmissionResponse = { uid, allowed: false, status };
  return { apiVersion, kind: 'AdmissionReview', response: withWarnings(response, warnings) };
}

/** Decodes a reply's patch (for the CLI and tests). */
export function decodePatch(response: AdmissionResponse): PatchOperation[] {
  if (!response.patch) return [];
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as PatchOperation[];
}
