// A test kit for function authors: what a function answers a review, judged by the apiserver's
// own checks (admission-check, see apiserver.ts), in three words.
//
//   const kit = functionKit('default-resources', { DEFAULT_CPU_REQUEST: '100m' });
//   await kit.expectPatched(review, (pod) => assert.equal(pod.spec.containers[0].resources.requests.cpu, '100m'));
//   await kit.expectDenied(review, 'DEFAULT_CPU_REQUEST', 'not a quantity', { code: 400 });
//   await kit.expectUnchanged(deleteReview);
//
// A function served under a name that is not registered (an example, a function in the
// making) is given as its definition instead of its name.
import assert from 'node:assert/strict';
import { functionNamed } from '../../functions/index.ts';
import { loadConfig } from '../../shared/config.ts';
import { functionHandler, serveReview } from '../../shared/handler.ts';
import type { AnyMutation } from '../../shared/mutation.ts';
import type { RequestInfo } from '../../shared/request-info.ts';
import { type AdmissionReviewReply, decodePatch } from '../../shared/response.ts';
import { parseAdmissionReview } from '../../shared/review.ts';
import { apiserverVerdict, type Verdict } from './apiserver.ts';
import { edited, type Json } from './reviews.ts';

/** What an admitted reply carried besides the object: its patch and its warnings. */
export interface Admission {
  patch: ReturnType<typeof decodePatch>;
  warnings: string[];
}

export interface KitOptions {
  /** How the apiserver calls the function (its path). */
  info?: RequestInfo;
}

export interface FunctionKit {
  /** The reply, after asserting the apiserver accepts it. */
  answer(review: Json, info?: RequestInfo): Promise<{ reply: AdmissionReviewReply; verdict: Verdict }>;
  /**
   * Admitted with a patch; `expected` is the whole object after it, or a function that asserts
   * on it (and on the patch and warnings, if it cares). A second run on the patched object
   * must be admitted with no patch (functions are idempotent).
   */
  expectPatched(
    review: Json,
    expected: Record<string, unknown> | ((object: Json, admission: Admission) => void),
    options?: KitOptions,
  ): Promise<Json>;
  /**
   * Refused, the message naming `path` (as the user reads it, `annotation x: item 0`) then
   * `message`, with a 4xx or 5xx code; with `code`, that code.
   */
  expectDenied(
    review: Json,
    path: string,
    message: string | RegExp,
    options?: KitOptions & { code?: number },
  ): Promise<string>;
  /** Admitted with no patch; the warnings it gave. */
  expectUnchanged(review: Json, options?: KitOptions): Promise<string[]>;
}

export function functionKit(fn: string | AnyMutation, env: Record<string, string> = {}): FunctionKit {
  const mutation = typeof fn === 'string' ? functionNamed(fn) : fn;
  const handler = functionHandler({ mutation, config: loadConfig(mutation, env) });
  const validating = mutation.kind === 'validating';

  async function answer(review: Json, info?: RequestInfo) {
    const reply = serveReview(handler, parseAdmissionReview(review), info);
    const verdict = await apiserverVerdict(review, reply, validating);
    if (!verdict.accepted) assert.fail(`the apiserver refuses ${mutation.name}'s reply: ${verdict.error}`);
    return { reply, verdict };
  }

  /** The object as admitted, with the reply's patch and warnings; fails on a denial. */
  async function admitted(review: Json, info?: RequestInfo) {
    const { reply, verdict } = await answer(review, info);
    if (!verdict.accepted || !verdict.allowed)
      assert.fail(`${mutation.name} denied: ${deniedMessage(verdict)}`);
    const admission = { patch: decodePatch(reply.response), warnings: reply.response.warnings ?? [] };
    return { object: verdict.object as Json, admission };
  }

  return {
    answer,
    async expectPatched(review, expected, { info } = {}) {
      const { object, admission } = await admitted(review, info);
      assert.ok(admission.patch.length > 0, `${mutation.name} admitted the object with no patch`);
      if (typeof expected === 'function') expected(object, admission);
      else assert.deepEqual(object, expected);
      const again = edited(review, (_object, request) => {
        request.object = object;
      });
      const second = await admitted(again, info);
      assert.deepEqual(second.admission.patch, [], 'a second run on the patched object changed it');
      return object;
    },
    async expectDenied(review, path, message, { info, code } = {}) {
      const { reply, verdict } = await answer(review, info);
      if (verdict.accepted && verdict.allowed) assert.fail(`${mutation.name} admitted the object`);
      const said = deniedMessage(verdict);
      const where = path ? `${path}: ` : '';
      if (typeof message === 'string') {
        assert.ok(said.includes(`${where}${message}`), `expected "${where}${message}" in: ${said}`);
      } else {
        assert.ok(said.includes(where), `expected "${where}" in: ${said}`);
        assert.match(said.slice(said.indexOf(where) + where.length), message);
      }
      const given = reply.response.status?.code ?? 0;
      // A refusal carries the HTTP code the user is shown (kubectl prints it).
      assert.ok(given >= 400 && given <= 599, `a refusal with code ${given}: ${said}`);
      if (code !== undefined) assert.equal(given, code, `the code of: ${said}`);
      return said;
    },
    async expectUnchanged(review, { info } = {}) {
      const { admission } = await admitted(review, info);
      assert.deepEqual(admission.patch, [], `${mutation.name} patched the object`);
      return admission.warnings;
    },
  };
}

function deniedMessage(verdict: Verdict): string {
  return verdict.accepted && !verdict.allowed ? verdict.message : '';
}
