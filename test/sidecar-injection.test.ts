import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { webhookSettings } from '../shared/mutation.ts';
import { projectRoot } from './support/apiserver.ts';
import {
  annotated,
  assertIdempotent,
  edited,
  type Json,
  judged,
  sample,
  sharedFixture,
} from './support/reviews.ts';
import { assertSchemaValid } from './support/schemas.ts';
import { matchingEntries } from './support/webhook.ts';

const NAME = 'sidecar-injection';
const TEMPLATE = join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml');
const env = { SIDECAR_TEMPLATE_FILE: TEMPLATE };
const INJECT = 'knative.netease.dev/inject';
const INJECTED = 'knative.netease.dev/injected';

const pod = sample('sidecar-injection/pod.json');
const names = (list: Json[] | undefined) => (list ?? []).map((item: Json) => item.name);

const scratch = mkdtempSync(join(tmpdir(), 'sidecar-injection-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
let files = 0;
function templateFile(text: string): string {
  const file = join(scratch, `template-${files++}.yaml`);
  writeFileSync(file, text);
  return file;
}

describe('sidecar-injection', () => {
  it('appends the template to the pod, records it, and a second run changes nothing', async () => {
    const result = await judged(NAME, pod, env);
    const injected = result.object;
    assert.deepEqual(names(injected.spec.containers), ['web', 'log-shipper']);
    assert.deepEqual(names(injected.spec.initContainers), ['egress-proxy']);
    assert.deepEqual(names(injected.spec.volumes), ['kube-api-access-7x2kq', 'shipper-config', 'app-logs']);
    // Quantities as the apiserver stores them, so the injected container compares equal later.
    assert.deepEqual(injected.spec.initContainers[0].resources.requests, { cpu: '100m', memory: '1Gi' });
    assert.match(
      injected.metadata.annotations[INJECTED],
      /^[0-9a-f]{12} \(containers: log-shipper; initContainers: egress-proxy; volumes: shipper-config, app-logs\)$/,
    );
    // Only adds, so other webhooks' changes to the same pod survive.
    assert.deepEqual(
      result.patch.map((op) => `${op.op} ${op.path}`),
      [
        'add /spec/containers/1',
        'add /spec/volumes/1',
        'add /spec/volumes/2',
        'add /spec/initContainers',
        'add /metadata/annotations',
      ],
    );
    assertSchemaValid('pod-v1.json', injected, 'the injected pod');
    await assertIdempotent(NAME, result, pod, env);
  });

  const injects: { name: string; review: Json; check?: (pod: Json) => void }[] = [
    {
      name: 'a pod annotated "true" (the pod entry sends it from any namespace)',
      review: sample('sidecar-injection/pod-annotated-true.json'),
    },
    {
      name: 'a Knative revision pod: after queue-proxy, its own annotations kept',
      review: sharedFixture('knative-pod-netease-annotations.v1.json'),
      check: (pod) => {
        assert.deepEqual(names(pod.spec.containers), ['user-container', 'queue-proxy', 'log-shipper']);
        assert.equal(pod.metadata.annotations['autoscaling.knative.dev/min-scale'], '1');
      },
    },
    {
      name: 'a pod with no volumes, init containers or annotations at all',
      review: edited(sharedFixture('plain-pod-no-labels.v1.json'), (pod) => {
        delete pod.spec.volumes;
        delete pod.spec.containers[0].volumeMounts;
      }),
      check: (pod) => assert.deepEqual(names(pod.spec.volumes), ['shipper-config', 'app-logs']),
    },
    {
      name: 'a pod that already has the sidecar as the apiserver stores it (defaults added)',
      review: edited(pod, (object) => {
        object.spec.containers.push({
          name: 'log-shipper',
          image: 'fluent/fluent-bit:3.1',
          args: ['--config=/fluent-bit/etc/fluent-bit.yaml'],
          resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
          volumeMounts: [
            { name: 'shipper-config', mountPath: '/fluent-bit/etc', readOnly: true },
            { name: 'app-logs', mountPath: '/var/log/app', readOnly: true },
          ],
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        });
      }),
      check: (pod) => assert.deepEqual(names(pod.spec.containers), ['web', 'log-shipper']),
    },
  ];
  for (const c of injects) {
    it(`injects into ${c.name}`, async () => {
      const result = await judged(NAME, c.review, env);
      assert.equal(result.denial, undefined, result.denial);
      assert.ok(names(result.object.spec.containers).includes('log-shipper'));
      assert.ok(result.object.metadata.annotations[INJECTED]);
      c.check?.(result.object);
      assertSchemaValid('pod-v1.json', result.object, 'the injected pod');
      await assertIdempotent(NAME, result, c.review, env);
    });
  }

  it('changes nothing when a later webhook added a container after the injection (reinvocation)', async () => {
    const first = await judged(NAME, pod, env);
    const later = edited(pod, (_object, request) => {
      request.object = structuredClone(first.object);
      request.object.spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' });
    });
    const second = await judged(NAME, later, env);
    assert.deepEqual(second.patch, []);
  });

  const skips: { name: string; review: Json; env?: Record<string, string> }[] = [
    { name: 'a pod annotated "false"', review: sample('sidecar-injection/pod-opted-out.json') },
    {
      name: "a pod in the webhook's own namespace",
      review: edited(pod, (object, request) => {
        request.namespace = 'faas-admission';
        object.metadata.namespace = 'faas-admission';
      }),
    },
    {
      name: 'a pod in WEBHOOK_NAMESPACE when it is configured',
      review: edited(pod, (_object, request) => {
        request.namespace = 'platform-webhooks';
      }),
      env: { WEBHOOK_NAMESPACE: 'platform-webhooks' },
    },
    {
      name: 'a pod annotated "false" under ANNOTATION_PREFIX',
      review: annotated(pod, { 'sidecar.example.com/inject': 'false' }),
      env: { ANNOTATION_PREFIX: 'sidecar.example.com' },
    },
  ];
  for (const c of skips) {
    it(`leaves alone ${c.name}`, async () => {
      const result = await judged(NAME, c.review, { ...env, ...c.env });
      assert.equal(result.denial, undefined, result.denial);
      assert.deepEqual(result.patch, []);
    });
  }

  const denials: { name: string; review: Json; message: RegExp; code: number }[] = [
    {
      name: 'an inject annotation that is neither "true" nor "false"',
      review: annotated(pod, { [INJECT]: 'yes' }),
      message: /annotation knative\.netease\.dev\/inject: must be "true" or "false", not "yes"/,
      code: 400,
    },
    {
      name: 'a container of the same name with a different definition',
      review: sample('sidecar-injection/pod-conflict.json'),
      message:
        /sidecar template containers\[0\] "log-shipper": the pod already has a container named "log-shipper" with a different definition \(image: "fluent\/fluent-bit:2\.0" in the pod, "fluent\/fluent-bit:3\.1" in the template\)/,
      code: 409,
    },
    {
      name: 'a container of the same name in the other list',
      review: edited(pod, (object) => {
        object.spec.initContainers = [{ name: 'log-shipper', image: 'busybox' }];
      }),
      message:
        /sidecar template containers\[0\] "log-shipper": the pod already has a container named "log-shipper" in initContainers/,
      code: 409,
    },
    {
      name: 'a volume of the same name with a different definition',
      review: edited(pod, (object) => {
        object.spec.volumes.push({ name: 'app-logs', hostPath: { path: '/var/log' } });
      }),
      message:
        /sidecar template volumes\[1\] "app-logs": the pod already has a different volume named "app-logs" \(emptyDir: nothing in the pod, \{\} in the template\)/,
      code: 409,
    },
  ];
  for (const c of denials) {
    it(`denies ${c.name}`, async () => {
      const result = await judged(NAME, c.review, env);
      assert.match(result.denial ?? '(allowed)', c.message);
      assert.equal(result.reply.response.status?.code, c.code);
    });
  }

  it('denies a template mount of a volume neither the template nor the pod has', async () => {
    const file = templateFile(
      'containers: [{name: agent, image: agent:1, volumeMounts: [{name: data, mountPath: /data}]}]',
    );
    const result = await judged(NAME, pod, { SIDECAR_TEMPLATE_FILE: file });
    assert.match(
      result.denial ?? '(allowed)',
      /sidecar template containers\[0\] "agent": volumeMounts\[0\]: no volume named "data" in the template or the pod/,
    );
    // The same mount of a volume the pod has is fine.
    const withData = edited(pod, (object) => {
      object.spec.volumes.push({ name: 'data', emptyDir: {} });
    });
    const allowed = await judged(NAME, withData, { SIDECAR_TEMPLATE_FILE: file });
    assert.deepEqual(names(allowed.object.spec.containers), ['web', 'agent']);
  });

  it('records a different hash when the template changes, so a new template is applied', async () => {
    const other = templateFile('containers: [{name: log-shipper, image: "fluent/fluent-bit:3.1"}]');
    const first = await judged(NAME, pod, env);
    const second = await judged(NAME, pod, { SIDECAR_TEMPLATE_FILE: other });
    assert.notEqual(
      first.object.metadata.annotations[INJECTED].split(' ')[0],
      second.object.metadata.annotations[INJECTED].split(' ')[0],
    );
    // Field order in the file does not change the hash.
    const reordered = templateFile('containers: [{image: "fluent/fluent-bit:3.1", name: log-shipper}]');
    const third = await judged(NAME, pod, { SIDECAR_TEMPLATE_FILE: reordered });
    assert.equal(third.object.metadata.annotations[INJECTED], second.object.metadata.annotations[INJECTED]);
  });

  const badTemplates: { name: string; text?: string; file?: string; message: RegExp }[] = [
    { name: 'no file configured', file: '', message: /SIDECAR_TEMPLATE_FILE: must name the template file/ },
    {
      name: 'a missing file',
      file: join(scratch, 'nope.yaml'),
      message: /SIDECAR_TEMPLATE_FILE: .*nope\.yaml: ENOENT/,
    },
    { name: 'broken YAML', text: 'containers: [{name: a', message: /SIDECAR_TEMPLATE_FILE: .*: .*line 1/ },
    { name: 'an empty template', text: '', message: /injects nothing/ },
    { name: 'an unknown top-level field', text: 'sidecars: []', message: /Unrecognized key: "sidecars"/ },
    {
      name: 'a misspelt container field',
      text: 'containers: [{name: a, image: a, imagePullpolicy: Always}]',
      message: /containers\[0\]\.imagePullpolicy: is not a field of a core\/v1 Container/,
    },
    {
      name: 'a container without image',
      text: 'containers: [{name: a}]',
      message: /containers\[0\]\.image: must name an image/,
    },
    {
      name: 'a container name that is not a DNS label',
      text: 'containers: [{name: Log_Shipper, image: a}]',
      message: /containers\[0\]\.name: "Log_Shipper" must be a lowercase RFC 1123 label/,
    },
    {
      name: 'a name used twice across the lists',
      text: 'containers: [{name: a, image: a}]\ninitContainers: [{name: a, image: a}]',
      message: /containers\[0\]\.name: "a" is used twice/,
    },
    {
      name: 'restartPolicy on a regular container',
      text: 'containers: [{name: a, image: a, restartPolicy: Always}]',
      message: /containers\[0\]\.restartPolicy: is only for initContainers/,
    },
    {
      name: 'a bad quantity',
      text: 'containers: [{name: a, image: a, resources: {limits: {memory: 1GB}}}]',
      message: /containers\[0\]\.resources\.limits\.memory: "1GB" is not a quantity/,
    },
    {
      name: 'a volume without source',
      text: 'volumes: [{name: v}]',
      message: /volumes\[0\]: volume "v" must have exactly one source/,
    },
    {
      name: 'a volume name used twice',
      text: 'volumes: [{name: v, emptyDir: {}}, {name: v, emptyDir: {}}]',
      message: /volumes\[1\]\.name: "v" is used twice/,
    },
    {
      name: 'a number where a string belongs',
      text: 'containers: [{name: a, image: a, env: [{name: N, value: 1}]}]',
      message: /containers\[0\]\.env\[0\]\.value: must be a string/,
    },
  ];
  for (const c of badTemplates) {
    it(`refuses to start with ${c.name}`, () => {
      const file = c.file ?? templateFile(c.text ?? '');
      assert.throws(
        () => loadConfig(functionNamed(NAME), { SIDECAR_TEMPLATE_FILE: file }),
        (error: Error) => {
          assert.equal(error.name, 'ConfigError');
          assert.match(error.message, /^sidecar-injection: invalid configuration: /);
          assert.match(error.message, c.message);
          return true;
        },
      );
    });
  }

  it('is registered for labelled namespaces, and elsewhere for pods annotated "true"', () => {
    const mutation = functionNamed(NAME);
    const settings = webhookSettings(mutation, loadConfig(mutation, env));
    assert.equal(settings.failurePolicy, 'Fail');
    const enabled = { [INJECT]: 'enabled', 'kubernetes.io/metadata.name': 'shop' };
    const plain = { 'kubernetes.io/metadata.name': 'default' };
    const own = { [INJECT]: 'enabled', 'kubernetes.io/metadata.name': 'faas-admission' };
    const request = (review: Json) => review.request;
    const cases: [Record<string, string>, Json, string[]][] = [
      [enabled, pod, ['namespace']],
      [enabled, sample('sidecar-injection/pod-opted-out.json'), []],
      [enabled, annotated(pod, { [INJECT]: 'true' }), ['namespace']],
      [plain, pod, []],
      [plain, sample('sidecar-injection/pod-annotated-true.json'), ['pod']],
      [plain, annotated(pod, { [INJECT]: 'false' }), []],
      [own, pod, []],
      [{ 'kubernetes.io/metadata.name': 'faas-admission' }, annotated(pod, { [INJECT]: 'true' }), []],
    ];
    for (const [namespaceLabels, review, expected] of cases) {
      assert.deepEqual(
        matchingEntries(settings, { namespaceLabels, request: request(review) }),
        expected,
        `namespace ${JSON.stringify(namespaceLabels)}, annotations ${JSON.stringify(review.request.object.metadata.annotations)}`,
      );
    }
    // The selectors follow ANNOTATION_PREFIX and WEBHOOK_NAMESPACE.
    const custom = { ...env, ANNOTATION_PREFIX: 'sidecar.example.com', WEBHOOK_NAMESPACE: 'platform' };
    const customSettings = webhookSettings(mutation, loadConfig(mutation, custom));
    const customPod = annotated(pod, { 'sidecar.example.com/inject': 'true' });
    assert.deepEqual(
      matchingEntries(customSettings, { namespaceLabels: plain, request: customPod.request }),
      ['pod'],
    );
    assert.deepEqual(
      matchingEntries(customSettings, {
        namespaceLabels: {
          'sidecar.example.com/inject': 'enabled',
          'kubernetes.io/metadata.name': 'platform',
        },
        request: pod.request,
      }),
      [],
    );
  });
});
