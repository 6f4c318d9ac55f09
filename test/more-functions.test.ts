// What sidecar-injection, image-mirror, config-volume and node-oversale share with every
// function: both envelope versions, dry run, an untouched request. What every function leaves
// alone is in runner.test.ts, over the whole registry.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePatch } from '../shared/response.ts';
import { apiserverVerdicts } from './support/apiserver.ts';
import { FUNCTION_ENV, FUNCTION_INFO } from './support/registry.ts';
import { answer, edited, type Json, sample, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const ENV = FUNCTION_ENV;
const INFO = FUNCTION_INFO;
const heartbeat = sample('node-oversale/first-heartbeat.json');
const asV1beta1 = (review: Json) => ({ ...structuredClone(review), apiVersion: 'admission.k8s.io/v1beta1' });

describe('the new functions, like every function', () => {
  const reviews: Record<string, Json> = {
    'sidecar-injection': knativePod,
    'image-mirror': knativePod,
    'config-volume': knativePod,
    'node-oversale': heartbeat,
  };
  for (const [name, review] of Object.entries(reviews)) {
    it(`${name}: answers v1beta1 in v1beta1 and a dry run like the real request, accepted by the apiserver`, async () => {
      const env = ENV[name];
      const info = INFO[name];
      const real = answer(name, review, env, info);
      assert.ok(decodePatch(real.response).length > 0, 'the sample is changed');
      const beta = answer(name, asV1beta1(review), env, info);
      assert.equal(beta.apiVersion, 'admission.k8s.io/v1beta1');
      assert.deepEqual(beta.response, real.response);
      const dryReview = edited(review, (_o, r) => {
        r.dryRun = true;
      });
      const dry = answer(name, dryReview, env, info);
      assert.deepEqual(dry.response, real.response);
      const verdicts = await apiserverVerdicts([
        { request: asV1beta1(review), reply: beta },
        { request: dryReview, reply: dry },
      ]);
      for (const verdict of verdicts) assert.equal(verdict.accepted && verdict.allowed, true);
    });

    it(`${name}: never modifies the request it was given`, () => {
      const given = structuredClone(review);
      answer(name, given, ENV[name], INFO[name]);
      assert.deepEqual(given, review);
    });
  }
});
