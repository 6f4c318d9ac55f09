// Building and judging reviews in tests: fixtures, small edits, and a function's answer run
// through the apiserver's judgement.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { functionNamed } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { functionHandler, serveReview } from '../../shared/handler.ts';
import type { RequestInfo } from '../../shared/request-info.ts';
import { type AdmissionReviewReply, decodePatch } from '../../shared/response.ts';
import { type AdmissionReview, parseAdmissionReview } from '../../shared/review.ts';
import { apiserverVerdict, projectRoot, sharedDir } from './apiserver.ts';

// biome-ignore lint/suspicious/noExplicitAny: reviews in tests are edited freely
export type Json = any;

export function sharedFixture(name: string): Json {
  return JSON.parse(readFileSync(join(sharedDir, 'fixtures', name), 'utf8'));
}

export function sample(path: string): Json {
  return JSON.parse(readFileSync(join(projectRoot, 'samples', path), 'utf8'));
}

/** A copy of `review` with `edit` applied to the copy of its request.object. */
export function edited(reviewed: Json, edit: (object: Json, request: Json) => void): Json {
  const copy = structuredClone(reviewed);
  edit(copy.request.object, copy.request);
  return copy;
}

/** A copy of `review` whose object carries these annotations (replacing the set given). */
export function annotated(reviewed: Json, annotations: Record<string, string | undefined>): Json {
  return edited(reviewed, (object) => {
    object.metadata.annotations ??= {};
    for (const [key, value] of Object.entries(annotations)) {
      if (value === undefined) delete object.metadata.annotations[key];
      else object.metadata.annotations[key] = value;
    }
  });
}

/** What function `name` answers, configured from `env` as the deployed function would be. */
export function answer(
  name: string,
  reviewed: Json,
  env: Record<string, string> = {},
  info?: RequestInfo,
): AdmissionReviewReply {
  const mutation = functionNamed(name);
  return serveReview(
    functionHandler({ mutation, config: loadConfig(mutation, env) }),
    parseAdmissionReview(reviewed),
    info,
  );
}

export interface Judged {
  reply: AdmissionReviewReply;
  patch: ReturnType<typeof decodePatch>;
  /** The object as the apiserver has it after the patch; undefined for a denial. */
  object?: Json;
  /** The denial's message, as the user would read it. */
  denial?: string;
}

/** Answers `review` with function `name` and asserts the apiserver accepts the reply. */
export async function judged(
  name: string,
  reviewed: Json,
  env: Record<string, string> = {},
  info?: RequestInfo,
): Promise<Judged> {
  const reply = answer(name, reviewed, env, info);
  // A validating function is judged as the apiserver judges validating webhooks (no patch).
  const verdict = await apiserverVerdict(reviewed, reply, functionNamed(name).kind === 'validating');
  if (!verdict.accepted) assert.fail(`the apiserver refuses ${name}'s reply: ${verdict.error}`);
  const patch = decodePatch(reply.response);
  return verdict.allowed
    ? { reply, patch, object: verdict.object }
    : { reply, patch, denial: verdict.message };
}

/** Runs the function again on its own output: a second run must change nothing. */
export async function assertIdempotent(
  name: string,
  first: Judged,
  reviewed: Json,
  env: Record<string, string> = {},
  info?: RequestInfo,
) {
  assert.ok(first.object, 'the first run was not allowed');
  const again = edited(reviewed, (_object, request) => {
    request.object = first.object;
  });
  const second = await judged(name, again, env, info);
  assert.equal(second.denial, undefined, `second run denied: ${second.denial}`);
  assert.deepEqual(second.patch, [], 'second run on the patched object must give an empty patch');
}

export type { AdmissionReview };
