// What sidecar-injection, image-mirror, config-volume and node-oversale share with every
// function: what they leave alone, both envelope versions, dry run, an untouched request.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RequestInfo } from '../shared/request-info.ts';
import { allowed, completeResponse, decodePatch } from '../shared/response.ts';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { answer, edited, type Json, sample, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const ENV: Record<string, Record<string, string>> = {
  'sidecar-injection': {
    SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml'),
  },
  'image-mirror': { IMAGE_MIRRORS: 'docker.io=mirror.example.com/hub,gcr.io=mirror.example.com/gcr' },
  'config-volume': { POD_SELECTOR: 'serving.knative.dev/service' },
  'node-oversale': { OVERSALE_RULES: 'node-role.example.com/oversale=true:cpu=2,memory=1.5' },
};
const POD_FUNCTIONS = ['sidecar-injection', 'image-mirror', 'config-volume'];
// How the apiserver calls each: sidecar-injection on its opted-in namespaces' entry.
const INFO: Record<string, RequestInfo> = { 'sidecar-injection': { path: '/sidecar-injection/namespace' } };
const heartbeat = sample('node-oversale/first-heartbeat.json');
const asV1beta1 = (review: Json) => ({ ...structuredClone(review), apiVersion: 'admission.k8s.io/v1beta1' });

describe('the new functions, like every function', () => {
  const untouched: { name: string; review: Json; functions: string[] }[] = [
    { name: 'DELETE (object is null)', review: sample('pod-delete.json'), functions: POD_FUNCTIONS },
    {
      name: 'CONNECT (pods/exec)',
      review: edited(knativePod, (_o, r) => {
        r.operation = 'CONNECT';
        r.subResource = 'exec';
        r.object = { kind: 'PodExecOptions', apiVersion: 'v1', command: ['sh'] };
      }),
      functions: POD_FUNCTIONS,
    },
    {
      name: 'a pods/status UPDATE',
      review: edited(knativePod, (_o, r) => {
        r.operation = 'UPDATE';
        r.subResource = 'status';
        r.oldObject = structuredClone(r.object);
      }),
      functions: POD_FUNCTIONS,
    },
    {
      name: 'an UPDATE of a pod that changes no image',
      review: edited(knativePod, (o, r) => {
        r.operation = 'UPDATE';
        r.oldObject = structuredClone(r.object);
        o.metadata.labels.tier = 'web';
      }),
      functions: POD_FUNCTIONS,
    },
    {
      name: 'a Deployment (pods only)',
      review: sample('deployment.json'),
      functions: POD_FUNCTIONS,
    },
    {
      name: 'a node UPDATE that is not the status subresource',
      review: edited(heartbeat, (_o, r) => {
        r.subResource = undefined;
      }),
      functions: ['node-oversale'],
    },
    {
      name: 'a pod',
      review: knativePod,
      functions: ['node-oversale'],
    },
  ];
  for (const c of untouched) {
    for (const name of c.functions) {
      it(`${name}: ${c.name} is allowed with no patch`, () => {
        const reply = answer(name, c.review, ENV[name], INFO[name]);
        assert.deepEqual(reply, completeResponse(c.review, allowed()));
      });
    }
  }

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
