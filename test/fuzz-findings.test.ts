// One test per bug the fuzz run found: each failed (a throw answered as an internal error,
// a reply the apiserver refuses, or part of an annotation silently ignored) before its fix.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { functionHandler } from '../shared/handler.ts';
import { answerBody } from '../shared/http-answer.ts';
import { projectRoot } from './support/apiserver.ts';
import { annotated, edited, type Json, judged, sample, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const service = sample('knative-service/create-good.v1.json');
const VOLUMES = 'knative.netease.dev/volumes';
const NODE_SELECTOR = 'knative.netease.dev/nodeSelector';
// The fixtures inject hostPath /usr/local/nagent4docker, which the sample policy allows.
const env = { VOLUME_POLICY_FILE: join(projectRoot, 'samples', 'policies', 'nagent.yaml') };

function httpAnswer(name: string, body: Json, env: Record<string, string> = {}) {
  const mutation = functionNamed(name);
  return answerBody(functionHandler({ mutation, config: loadConfig(mutation, env) }), JSON.stringify(body));
}

describe('fuzz findings', () => {
  it('an object whose metadata, labels or apiVersion have the wrong type is a 400 naming the field', () => {
    const cases: [(object: Json) => void, RegExp][] = [
      [
        (o) => {
          o.metadata = 'x';
        },
        /request\.object\.metadata: Invalid input: expected object, received string/,
      ],
      [
        (o) => {
          o.metadata.labels = ['a'];
        },
        /request\.object\.metadata\.labels: Invalid input: expected record/,
      ],
      [
        (o) => {
          o.metadata.annotations.x = 1;
        },
        /request\.object\.metadata\.annotations\.x: Invalid input: expected string/,
      ],
      [
        (o) => {
          o.apiVersion = ['v1'];
        },
        /request\.object\.apiVersion: Invalid input: expected string/,
      ],
    ];
    for (const [edit, message] of cases) {
      const answer = httpAnswer('label-stamping', edited(knativePod, edit), { STAMP_LABELS: 'a=b' });
      assert.equal(answer.status, 400);
      assert.match((answer.body as Json).message, message);
    }
  });

  it('a __proto__ key in an annotation is refused, not silently left out', async () => {
    const selector = await judged(
      'node-selector',
      annotated(knativePod, { [NODE_SELECTOR]: '{"__proto__":"x"}' }),
    );
    assert.equal(
      selector.denial,
      'denied the request: annotation knative.netease.dev/nodeSelector: "__proto__" is not allowed as a key',
    );
    const volume = await judged(
      'volume-extension',
      annotated(knativePod, { [VOLUMES]: '[{"name":"x","emptyDir":{"__proto__":{"medium":"Memory"}}}]' }),
    );
    assert.match(
      volume.denial ?? '(allowed)',
      /volumes: item 0: emptyDir: "__proto__" is not allowed as a key/,
    );
    assert.equal(({} as Json).medium, undefined);
  });

  it('an annotation nested thousands of levels deep is refused, not a stack overflow', async () => {
    const depth = 5_000;
    const deep = `[{"name":"deep","csi":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]`;
    const result = await judged('volume-extension', annotated(knativePod, { [VOLUMES]: deep }));
    assert.equal(
      result.denial,
      'denied the request: annotation knative.netease.dev/volumes: nested deeper than 32 levels',
    );
    assert.equal(result.reply.response.status?.code, 400);
  });

  it('a pod whose spec has the wrong shape is a 400 naming the field, for every function', () => {
    const sidecarEnv = {
      SIDECAR_TEMPLATE_FILE: join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml'),
    };
    const cases: [string, Record<string, string>, (pod: Json) => void, RegExp][] = [
      [
        'volume-extension',
        env,
        (p) => delete p.spec.containers,
        /request\.object\.spec\.containers: Invalid input: expected array/,
      ],
      [
        'volume-extension',
        env,
        (p) => void Object.assign(p.spec, { volumes: 'x' }),
        /request\.object\.spec\.volumes: Invalid input: expected array/,
      ],
      [
        'volume-extension',
        env,
        (p) => void Object.assign(p, { spec: 'prototype' }),
        /request\.object\.spec: Invalid input: expected object/,
      ],
      [
        'node-selector',
        {},
        (p) => void Object.assign(p.spec, { nodeSelector: ['ssd'] }),
        /request\.object\.spec\.nodeSelector: Invalid input: expected record/,
      ],
      [
        'image-mirror',
        { IMAGE_MIRRORS: 'docker.io=mirror.example.com/hub' },
        (p) => void Object.assign(p.spec.containers[0], { image: 7 }),
        /request\.object\.spec\.containers\[0\]\.image: Invalid input: expected string/,
      ],
      [
        'image-mirror',
        { IMAGE_MIRRORS: 'docker.io=mirror.example.com/hub' },
        (p) => void Object.assign(p.spec, { initContainers: [null] }),
        /request\.object\.spec\.initContainers\[0\]: Invalid input: expected object/,
      ],
      [
        'sidecar-injection',
        sidecarEnv,
        (p) => void Object.assign(p.spec, { containers: { a: 1 } }),
        /request\.object\.spec\.containers: Invalid input: expected array/,
      ],
      [
        'config-volume',
        { POD_SELECTOR: 'serving.knative.dev/service' },
        (p) => void Object.assign(p.spec.containers[1], { volumeMounts: [null] }),
        /request\.object\.spec\.containers\[1\]\.volumeMounts\[0\]: Invalid input: expected object/,
      ],
    ];
    for (const [name, config, edit, message] of cases) {
      const answer = httpAnswer(name, edited(knativePod, edit), config);
      assert.equal(answer.status, 400, name);
      assert.match((answer.body as Json).message, message);
    }
    // The request's kind misspelt while its resource says pods: still checked as a pod.
    const misnamed = edited(knativePod, (p) => void Object.assign(p.spec, { containers: '[]' }));
    misnamed.request.kind.kind = '"Pod"';
    const answer = httpAnswer('sidecar-injection', misnamed, sidecarEnv);
    assert.equal(answer.status, 400);
    assert.match(
      (answer.body as Json).message,
      /request\.object\.spec\.containers: Invalid input: expected array/,
    );
  });

  it('a Knative Service whose template spec or annotations have the wrong shape is refused', async () => {
    const stringSpec = edited(service, (s) => {
      s.spec.template.spec = 'x';
    });
    assert.match(
      (await judged('knative-service-validation', stringSpec, env)).denial ?? '(allowed)',
      /revision template \(spec\.template\): the pod cannot take the annotations: spec: Invalid input: expected object/,
    );
    const objectAnnotation = edited(service, (s) => {
      s.spec.template.metadata.annotations[NODE_SELECTOR] = { disktype: 'ssd' };
    });
    assert.match(
      (await judged('knative-service-validation', objectAnnotation, env)).denial ?? '(allowed)',
      /annotation knative\.netease\.dev\/nodeSelector: must be a string of JSON/,
    );
  });

  it('thousands of annotated volumes and mounts are all merged', async () => {
    const n = 2_000;
    const reviewed = annotated(knativePod, {
      [VOLUMES]: JSON.stringify(Array.from({ length: n }, (_, i) => ({ name: `v${i}`, emptyDir: {} }))),
      'knative.netease.dev/volumeMounts': JSON.stringify(
        Array.from({ length: n }, (_, i) => ({ name: `v${i}`, mountPath: `/m/${i}` })),
      ),
    });
    const result = await judged('volume-extension', reviewed);
    assert.equal(result.object.spec.volumes.length, n + 1);
    assert.equal(result.object.spec.containers[0].volumeMounts.length, n + 1);
  });
});
