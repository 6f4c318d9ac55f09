// The core, independent of any one function: envelope checks, what is skipped, failures
// inside a mutation. Versions, dry run and idempotence, for every function, are in
// every-function.test.ts.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as z from 'zod';
import { functionNamed } from '../functions/index.ts';
import { envName, loadConfig } from '../shared/config.ts';
import { deny } from '../shared/denial.ts';
import { functionHandler, serveReview } from '../shared/handler.ts';
import { answerBody } from '../shared/http-answer.ts';
import { defaultVolumePolicy } from '../shared/k8s/volume-policy.ts';
import { defineMutation } from '../shared/mutation.ts';
import { allowed, completeResponse } from '../shared/response.ts';
import { parseAdmissionReview } from '../shared/review.ts';
import { appliesTo } from '../shared/run-function.ts';
import { apiserverVerdict, projectRoot } from './support/apiserver.ts';
import { FUNCTION_ENV, FUNCTION_INFO, registeredNames } from './support/registry.ts';
import { answer, edited, type Json, judged, sample, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const POD_FUNCTIONS = ['volume-extension', 'node-selector'];
// The fixture injects hostPath /usr/local/nagent4docker, which the sample policy allows.
const POLICY = {
  VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml'),
};

describe('AdmissionReview envelope', () => {
  const malformed: { name: string; body: unknown; message: RegExp }[] = [
    { name: 'not an object', body: [], message: /invalid AdmissionReview: .*expected object/ },
    {
      name: 'wrong apiVersion',
      body: { ...knativePod, apiVersion: 'admission.k8s.io/v2' },
      message: /apiVersion: /,
    },
    { name: 'wrong kind', body: { ...knativePod, kind: 'Review' }, message: /kind: / },
    {
      name: 'no request',
      body: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
      message: /request: /,
    },
    { name: 'no uid', body: edited(knativePod, (_o, r) => delete r.uid), message: /request\.uid: / },
    {
      name: 'empty uid',
      body: edited(knativePod, (_o, r) => (r.uid = '')),
      message: /request\.uid: must be a non-empty string/,
    },
    {
      name: 'bad operation',
      body: edited(knativePod, (_o, r) => (r.operation = 'PATCH')),
      message: /request\.operation: /,
    },
    {
      name: 'object not an object',
      body: edited(knativePod, (_o, r) => (r.object = 'pod')),
      message: /request\.object: /,
    },
    {
      name: 'resource missing',
      body: edited(knativePod, (_o, r) => delete r.resource),
      message: /request\.resource: /,
    },
  ];
  for (const c of malformed) {
    it(`answers 400 naming the field: ${c.name}`, () => {
      const { status, body } = answerBody(
        functionHandler({ mutation: volumeExtension(), config: cfg() }),
        c.body,
      );
      assert.equal(status, 400);
      assert.match((body as { message: string }).message, c.message);
    });
  }

  it('answers 400 for a body that is not JSON', () => {
    const { status, body } = answerBody(
      functionHandler({ mutation: volumeExtension(), config: cfg() }),
      '{"apiVersion": ',
    );
    assert.equal(status, 400);
    assert.match((body as { message: string }).message, /body is not valid JSON/);
  });

  it('passes unknown fields of the object through untouched', async () => {
    const reviewed = edited(knativePod, (pod) => {
      pod.spec.futureField = { nested: [1, 2, { deep: true }] };
      pod.metadata.annotations['example.com/x'] = 'y';
    });
    const result = await judged('volume-extension', reviewed, POLICY);
    assert.deepEqual(result.object.spec.futureField, { nested: [1, 2, { deep: true }] });
    assert.ok(result.patch.every((op) => op.op === 'add'));
  });
});

describe('what every function leaves alone', () => {
  const nodeUpdate = edited(sample('node-oversale/first-heartbeat.json'), (_o, r) => {
    r.subResource = undefined;
  });
  /** The registered functions that `review` is not for (by their appliesTo): none may touch it. */
  const notFor = (review: Json) =>
    registeredNames().filter(
      (name) => !appliesTo(functionNamed(name).appliesTo, parseAdmissionReview(review).request),
    );
  // `functions`: whom the case is for; the registry-wide ones cover a function as soon as it is registered.
  const untouched: { name: string; review: Json; functions: string[] }[] = [
    { name: 'DELETE (object is null)', review: sample('pod-delete.json'), functions: registeredNames() },
    {
      name: 'CONNECT (pods/exec)',
      review: edited(knativePod, (_o, r) => {
        r.operation = 'CONNECT';
        r.subResource = 'exec';
        r.object = { kind: 'PodExecOptions', apiVersion: 'v1', command: ['sh'] };
      }),
      functions: registeredNames(),
    },
    {
      name: 'a pods/status UPDATE',
      review: edited(knativePod, (_o, r) => {
        r.operation = 'UPDATE';
        r.subResource = 'status';
        r.oldObject = structuredClone(r.object);
      }),
      functions: registeredNames(),
    },
    {
      name: 'a pods/status UPDATE that carries no oldObject',
      review: edited(knativePod, (_o, r) => {
        r.operation = 'UPDATE';
        r.subResource = 'status';
      }),
      functions: registeredNames(),
    },
    {
      name: 'UPDATE of a pod (annotations only act at creation)',
      review: edited(knativePod, (_o, r) => {
        r.operation = 'UPDATE';
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
      functions: ['sidecar-injection', 'image-mirror', 'config-volume'],
    },
    {
      name: 'another kind carrying the annotations',
      review: edited(sample('deployment.json'), (o) => {
        o.metadata.annotations = knativePod.request.object.metadata.annotations;
      }),
      functions: notFor(sample('deployment.json')),
    },
    {
      name: 'a node UPDATE that is not the status subresource',
      review: nodeUpdate,
      functions: notFor(nodeUpdate),
    },
    { name: 'a pod', review: knativePod, functions: ['node-oversale'] },
  ];
  for (const c of untouched) {
    for (const name of c.functions) {
      it(`${name}: ${c.name} is allowed with no patch`, async () => {
        const reply = answer(name, c.review, FUNCTION_ENV[name], FUNCTION_INFO[name]);
        assert.deepEqual(reply, completeResponse(c.review, allowed()));
        const verdict = await apiserverVerdict(c.review, reply, functionNamed(name).kind === 'validating');
        assert.equal(verdict.accepted && verdict.allowed, true);
      });
    }
  }
});

describe('a mutation that fails', () => {
  const throwing = (onError: 'deny' | 'allow') =>
    defineMutation({
      name: 'broken',
      description: 'throws',
      appliesTo: { resources: ['pods'], operations: ['CREATE'] },
      config: z.object({}),
      webhook: { failurePolicy: 'Fail', failurePolicyReason: 'test' },
      onError,
      mutate(pod: Json) {
        pod.metadata.labels.x = 'half-done';
        throw new Error('boom');
      },
    });

  it('is denied with code 500 and the uid when onError is deny, and the next review still works', async () => {
    const reply = serveReview(
      functionHandler({ mutation: throwing('deny'), config: {} }),
      parseAdmissionReview(knativePod),
    );
    assert.equal(reply.response.uid, knativePod.request.uid);
    assert.equal(reply.response.allowed, false);
    assert.deepEqual(reply.response.status, {
      code: 500,
      reason: 'InternalError',
      message: 'broken: internal error: boom',
    });
    assert.equal((await apiserverVerdict(knativePod, reply)).accepted, true);
    assert.equal(answer('volume-extension', knativePod, POLICY).response.allowed, true);
  });

  it('is admitted unchanged with a warning when onError is allow', () => {
    const reply = serveReview(
      functionHandler({ mutation: throwing('allow'), config: {} }),
      parseAdmissionReview(knativePod),
    );
    assert.equal(reply.response.allowed, true);
    assert.equal(reply.response.patch, undefined);
    assert.match(reply.response.warnings?.[0] ?? '', /broken: internal error: boom \(admitted unchanged\)/);
  });

  it('returns a denial with the code chosen by the mutation', () => {
    const denying = defineMutation({
      ...throwing('deny'),
      mutate: () => deny('no', 422),
    });
    const reply = serveReview(
      functionHandler({ mutation: denying, config: {} }),
      parseAdmissionReview(knativePod),
    );
    assert.deepEqual(reply.response.status, { code: 422, reason: 'Invalid', message: 'no' });
  });
});

describe('configuration', () => {
  it('reads each key from its CONSTANT_CASE variable', () => {
    assert.equal(envName('annotationPrefix'), 'ANNOTATION_PREFIX');
    assert.equal(envName('stampLabelsFile'), 'STAMP_LABELS_FILE');
    assert.deepEqual(loadConfig(volumeExtension(), { TARGET_CONTAINER: 'app' }), {
      annotationPrefix: 'knative.netease.dev',
      targetContainer: 'app',
      policy: defaultVolumePolicy,
    });
  });

  it('names the variable and the problem', () => {
    assert.throws(
      () => loadConfig(volumeExtension(), { TARGET_CONTAINER: '' }),
      /volume-extension: invalid configuration: TARGET_CONTAINER: /,
    );
  });
});

function volumeExtension() {
  return functionNamed('volume-extension');
}
function cfg() {
  return loadConfig(volumeExtension(), {});
}
