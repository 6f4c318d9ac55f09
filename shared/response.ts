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
    response.warnings = warnings.map((w) =>
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

export function denyReply(
  apiVersion: AdmissionVersion,
  uid: string,
  status: AdmissionStatus,
  warnings: readonly string[] = [],
): AdmissionReviewReply {
  const response: AdmissionResponse = { uid, allowed: false, status };
  return { apiVersion, kind: 'AdmissionReview', response: withWarnings(response, warnings) };
}

/** Decodes a reply's patch (for the CLI and tests). */
export function decodePatch(response: AdmissionResponse): PatchOperation[] {
  if (!response.patch) return [];
  return JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as PatchOperation[];
}
