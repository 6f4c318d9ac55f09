// One contract for every runtime: every valid review reaches the function and gets its answer,
// whatever keys its object holds. A ConfigMap may have a data key `__proto__`, a CRD a field
// `constructor`; faas-js-runtime's fastify refused such bodies with 400 before the function
// saw them. The patch the function writes must keep those keys as they are, and the apiserver
// must accept it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiserverVerdict } from './support/apiserver.ts';
import { RUNTIMES, type RuntimeUnderTest, sendReview, startRuntime } from './support/every-runtime.ts';
import type { Json } from './support/reviews.ts';

// Built from JSON text: an object literal with `__proto__` would set the prototype instead.
const configMapReview = (): Json =>
  JSON.parse(`{
  "apiVersion": "admission.k8s.io/v1",
  "kind": "AdmissionReview",
  "request": {
    "uid": "6d3c1c0e-7b9a-4f43-9d7e-2a1f4c8b9e01",
    "kind": { "group": "", "version": "v1", "kind": "ConfigMap" },
    "resource": { "group": "", "version": "v1", "resource": "configmaps" },
    "name": "tricky",
    "namespace": "team-a",
    "operation": "CREATE",
    "userInfo": { "username": "alice", "groups": ["system:authenticated"] },
    "object": {
      "apiVersion": "v1",
      "kind": "ConfigMap",
      "metadata": {
        "name": "tricky",
        "namespace": "team-a",
        "labels": { "constructor": "kept", "toString": "kept" },
        "annotations": { "__proto__": "kept" }
      },
      "data": { "__proto__": "{\\"polluted\\": true}", "constructor": "x", "hasOwnProperty": "y" }
    },
    "oldObject": null,
    "dryRun": false,
    "options": { "apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions" }
  }
}`);

for (const runtime of RUNTIMES) {
  describe(`${runtime}: reviews whose object holds __proto__ and constructor keys`, () => {
    let running: RuntimeUnderTest;
    before(async () => {
      running = await startRuntime(runtime);
    });
    after(async () => {
      await running?.stop();
    });

    it('are answered by the function, with a patch the apiserver accepts that keeps every key', async () => {
      const review = configMapReview();
      const reply = await sendReview(running, JSON.stringify(review));
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.json.response.allowed, true);
      assert.ok(reply.json.response.patch, 'label-stamping stamps team=platform');
      const verdict = await apiserverVerdict(review, reply.json);
      assert.ok(verdict.accepted && verdict.allowed, JSON.stringify(verdict));
      const object = verdict.object as Json;
      assert.equal(Object.getPrototypeOf(object.data), Object.prototype);
      assert.deepEqual(Object.entries(object.data), Object.entries(review.request.object.data));
      assert.deepEqual(Object.entries(object.metadata.annotations), [['__proto__', 'kept']]);
      assert.deepEqual(object.metadata.labels, { constructor: 'kept', toString: 'kept', team: 'platform' });
    });
  });
}
