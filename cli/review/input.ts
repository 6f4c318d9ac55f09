// Reads what `invoke`, `test` and `check` are given: an AdmissionReview, or any Kubernetes
// object (YAML or JSON, a file or stdin) made into the review the apiserver would send.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { HttpError } from '../../shared/errors.ts';
import { type AdmissionReview, type KubernetesObject, parseAdmissionReview } from '../../shared/review.ts';
import { fail } from '../errors.ts';
import { isAdmissionReview, type ReviewOptions, reviewFor } from './build.ts';
import { podFromWorkload } from './pod.ts';

/** The text of a file, or stdin for `-`. */
export function readInput(file: string): string {
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** One YAML or JSON document (JSON is YAML); more than one is an error naming the count. */
export function parseDocument(text: string, label: string): unknown {
  if (text.trim() === '') fail(`${label}: empty (expected a Kubernetes object or an AdmissionReview)`);
  // JSON (what kubectl -o json and the samples are) is parsed as JSON: faster for large pods.
  if (text.trimStart().startsWith('{')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      // not JSON after all: YAML's flow style, read below
    }
  }
  const documents = parseAllDocuments(text);
  if (!Array.isArray(documents)) fail(`${label}: not YAML`);
  const present = documents.filter((d) => d.contents !== null);
  for (const document of present)
    if (document.errors.length > 0) fail(`${label}: ${document.errors[0]?.message ?? 'invalid YAML'}`);
  if (present.length !== 1) fail(`${label}: expected one document, found ${present.length}`);
  const value = present[0]?.toJS({ maxAliasCount: 100 }) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`${label}: expected an object (a Kubernetes object or an AdmissionReview)`);
  return value;
}

export interface InputOptions extends ReviewOptions {
  /** Build the pod the workload's controller would create, and review that. */
  readonly pod?: boolean;
}

/** A review from a parsed document: as given when it is one, built otherwise. */
export function reviewOf(document: unknown, options: InputOptions, label: string): AdmissionReview {
  if (isAdmissionReview(document)) {
    if (options.pod) fail(`${label}: --pod needs a workload, not an AdmissionReview`);
    try {
      return parseAdmissionReview(document);
    } catch (error) {
      if (error instanceof HttpError) fail(`${label}: ${error.message}`);
      throw error;
    }
  }
  let object = document as KubernetesObject;
  let user = options.user;
  if (options.pod) {
    const built = podFromWorkload(object);
    object = built.pod;
    user ??= built.user;
  }
  const review = reviewFor(object, { ...options, ...(user && { user }) }, label);
  try {
    // The same checks a served request gets (a pod spec the functions can read).
    return parseAdmissionReview(review);
  } catch (error) {
    if (error instanceof HttpError) fail(`${label}: ${error.message}`);
    throw error;
  }
}

export function readReview(file: string, options: InputOptions): AdmissionReview {
  const label = file === '-' ? 'stdin' : file;
  return reviewOf(parseDocument(readInput(file), label), options, label);
}

export function readObject(file: string, label: string): KubernetesObject {
  return parseDocument(readInput(file), label) as KubernetesObject;
}
