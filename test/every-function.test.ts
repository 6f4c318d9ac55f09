// What every registered function does with a review it acts on (its sample in
// test/support/registry.ts): the same answer in v1beta1 as in v1 and for a dry run as for the
// real request, nothing more to do on its own output, and the request it was given left as it
// was; every reply judged by admission-check as kube-apiserver would. What every function
// leaves alone is in runner.test.ts, over the same registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionNamed } from '../functions/index.ts';
import { apiserverVerdicts } from './support/apiserver.ts';
import { FUNCTION_ENV, FUNCTION_INFO, FUNCTION_SAMPLE, registeredNames } from './support/registry.ts';
import { answer, assertIdempotent, edited, type Json, judged } from './support/reviews.ts';

const asV1beta1 = (review: Json) => ({ ...structuredClone(review), apiVersion: 'admission.k8s.io/v1beta1' });
const asDryRun = (review: Json) =>
  edited(review, (_object, request) => {
    request.dryRun = true;
  });

for (const name of registeredNames()) {
  describe(`${name}, like every function`, () => {
    const env = FUNCTION_ENV[name];
    const info = FUNCTION_INFO[name];
    const validating = functionNamed(name).kind === 'validating';
    const run = (review: Json) => answer(name, review, env, info);

    /**
     * A copy of the function's sample (samples are shared: a function that writes to its
     * request must not hide it from the next), and its answer judged: one it patches
     * (mutating) or refuses (validating).
     */
    async function actedOn() {
      const sampled = FUNCTION_SAMPLE[name];
      if (!sampled)
        assert.fail(
          `${name} has no sample review: add one it acts on to FUNCTION_SAMPLE in test/support/registry.ts`,
        );
      const review = structuredClone(sampled);
      const first = await judged(name, structuredClone(review), env, info);
      if (validating) assert.ok(first.denial, `${name} admits its sample: give it one it refuses`);
      else assert.ok(first.patch.length > 0, `${name} does not patch its sample: give it one it changes`);
      return { review, first };
    }

    /** `variant` of the sample gets the very reply the sample gets, and the same verdict. */
    async function answeredAlike(review: Json, variant: Json) {
      const real = run(review);
      const other = run(variant);
      assert.equal(other.apiVersion, variant.apiVersion);
      assert.deepEqual(other.response, real.response);
      const [realVerdict, otherVerdict] = await apiserverVerdicts([
        { request: review, reply: real, validating },
        { request: variant, reply: other, validating },
      ]);
      assert.equal(otherVerdict?.accepted, true, JSON.stringify(otherVerdict));
      assert.deepEqual(otherVerdict, realVerdict);
    }

    it('answers v1beta1 in v1beta1 with the same response as v1', async () => {
      const { review } = await actedOn();
      await answeredAlike(review, asV1beta1(review));
    });

    it('answers a dryRun review exactly like the real one', async () => {
      const { review } = await actedOn();
      await answeredAlike(review, asDryRun(review));
    });

    it('is idempotent: its own output gets no patch and the same verdict', async () => {
      const { review, first } = await actedOn();
      if (first.denial === undefined) await assertIdempotent(name, first, review, env, info);
      else assert.equal((await judged(name, review, env, info)).denial, first.denial);
    });

    it('never modifies the request it was given', async () => {
      const { review } = await actedOn();
      const given = structuredClone(review);
      run(given);
      assert.deepEqual(given, review);
    });
  });
}
