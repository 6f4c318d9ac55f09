import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { functionNamed } from '../functions/index.ts';
import { loadSidecarTemplate } from '../functions/sidecar-injection/template.ts';
import { loadConfig } from '../shared/config.ts';
import { webhookSettings } from '../shared/mutation.ts';
import { forgedInjectedStatus, sidecarLookalike } from './fuzz/arbitraries.ts';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { functionKit } from './support/function-kit.ts';
import { annotated, answer, edited, type Json, judged, sample, sharedFixture } from './support/reviews.ts';
import { assertSchemaValid } from './support/schemas.ts';
import { matchingEntries } from './support/webhook.ts';

const NAME = 'sidecar-injection';
const TEMPLATE = join(projectRoot, 'samples', 'sidecar-injection', 'template.yaml');
const env = { SIDECAR_TEMPLATE_FILE: TEMPLATE };
const INJECT = 'knative.netease.dev/inject';
const INJECTED = 'knative.netease.dev/injected';

const pod = sample('sidecar-injection/pod.json');
/** Sent on the registration entry of opted-in namespaces, as the apiserver posts it. */
const viaNamespace = { path: '/sidecar-injection/namespace' };
const viaPodEntry = { path: '/sidecar-injection/pod' };
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
  const kit = functionKit(NAME, env);

  it('appends the template to the pod, records it, and a second run changes nothing', async () => {
    await kit.expectPatched(
      pod,
      (injected, { patch }) => {
        assert.deepEqual(names(injected.spec.containers), ['web', 'log-shipper']);
        assert.deepEqual(names(injected.spec.initContainers), ['egress-proxy']);
        assert.deepEqual(names(injected.spec.volumes), [
          'kube-api-access-7x2kq',
          'shipper-config',
          'app-logs',
        ]);
        // Quantities as the apiserver stores them, so the injected container compares equal later.
        assert.deepEqual(injected.spec.initContainers[0].resources.requests, { cpu: '100m', memory: '1Gi' });
        assert.match(
          injected.metadata.annotations[INJECTED],
          /^[0-9a-f]{12} \(containers: log-shipper; initContainers: egress-proxy; volumes: shipper-config, app-logs\)$/,
        );
        // Only adds, so other webhooks' changes to the same pod survive.
        assert.deepEqual(
          patch.map((op) => `${op.op} ${op.path}`),
          [
            'add /spec/containers/1',
            'add /spec/volumes/1',
            'add /spec/volumes/2',
            'add /spec/initContainers',
            'add /metadata/annotations',
          ],
        );
        assertSchemaValid('pod-v1.json', injected, 'the injected pod');
      },
      { info: viaNamespace },
    );
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
      await kit.expectPatched(
        c.review,
        (injected) => {
          assert.ok(names(injected.spec.containers).includes('log-shipper'));
          assert.ok(injected.metadata.annotations[INJECTED]);
          c.check?.(injected);
          assertSchemaValid('pod-v1.json', injected, 'the injected pod');
        },
        { info: viaNamespace },
      );
    });
  }

  it('changes nothing when a later webhook added a container after the injection (reinvocation)', async () => {
    const first = await judged(NAME, pod, env, viaNamespace);
    const later = edited(pod, (_object, request) => {
      request.object = structuredClone(first.object);
      request.object.spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0' });
    });
    const second = await judged(NAME, later, env, viaNamespace);
    assert.deepEqual(second.patch, []);
  });

  // On a reinvocation the apiserver has re-run its in-tree plugins: the ServiceAccount plugin
  // mounted the token into the injected containers too (seen on kube-apiserver 1.20.2).
  const tokenMounted = (object: Json, volume: string) => {
    for (const container of [...object.spec.containers, ...(object.spec.initContainers ?? [])]) {
      container.volumeMounts ??= [];
      const mounts = container.volumeMounts;
      if (!mounts.some((m: Json) => m.mountPath === '/var/run/secrets/kubernetes.io/serviceaccount'))
        mounts.push({
          name: volume,
          readOnly: true,
          mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        });
    }
  };
  const reinvoked = (first: Json, edit: (object: Json) => void) =>
    edited(pod, (_object, request) => {
      request.object = structuredClone(first);
      edit(request.object);
    });

  it('changes nothing on a reinvocation after the ServiceAccount plugin mounted the token into its sidecar', async () => {
    const first = await judged(NAME, pod, env, viaNamespace);
    // 1.21+: the projected kube-api-access volume the sample pod has.
    const projected = await judged(
      NAME,
      reinvoked(first.object, (o) => tokenMounted(o, 'kube-api-access-7x2kq')),
      env,
      viaNamespace,
    );
    assert.equal(projected.denial, undefined, projected.denial);
    assert.deepEqual(projected.patch, []);
    // 1.20: the token Secret, mounted as a volume named after it.
    const secret = await judged(
      NAME,
      reinvoked(first.object, (o) => {
        o.spec.volumes.push({
          name: 'default-token-v2j6m',
          secret: { secretName: 'default-token-v2j6m', defaultMode: 420 },
        });
        tokenMounted(o, 'default-token-v2j6m');
      }),
      env,
      viaNamespace,
    );
    assert.equal(secret.denial, undefined, secret.denial);
    assert.deepEqual(secret.patch, []);
  });

  it('still refuses a sidecar with an extra mount at the token path of a volume that holds no token', async () => {
    const first = await judged(NAME, pod, env, viaNamespace);
    for (const volume of [
      { name: 'host', hostPath: { path: '/' } },
      { name: 'other-secret', secret: { secretName: 'db-password' } },
    ]) {
      const result = await judged(
        NAME,
        reinvoked(first.object, (o) => {
          o.spec.volumes.push(volume);
          tokenMounted(o, volume.name);
        }),
        env,
        viaNamespace,
      );
      assert.equal(result.reply.response.status?.code, 409, volume.name);
      assert.match(result.reply.response.status?.message ?? '', /different definition \(volumeMounts/);
    }
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
      await functionKit(NAME, { ...env, ...c.env }).expectUnchanged(c.review, { info: viaNamespace });
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
      await kit.expectDenied(c.review, '', c.message, { code: c.code, info: viaNamespace });
    });
  }

  it('denies a template mount of a volume neither the template nor the pod has', async () => {
    const file = templateFile(
      'containers: [{name: agent, image: agent:1, volumeMounts: [{name: data, mountPath: /data}]}]',
    );
    const result = await judged(NAME, pod, { SIDECAR_TEMPLATE_FILE: file }, viaNamespace);
    assert.match(
      result.denial ?? '(allowed)',
      /sidecar template containers\[0\] "agent": volumeMounts\[0\]: no volume named "data" in the template or the pod/,
    );
    // The same mount of a volume the pod has is fine.
    const withData = edited(pod, (object) => {
      object.spec.volumes.push({ name: 'data', emptyDir: {} });
    });
    const allowed = await judged(NAME, withData, { SIDECAR_TEMPLATE_FILE: file }, viaNamespace);
    assert.deepEqual(names(allowed.object.spec.containers), ['web', 'agent']);
  });

  it('records a different hash when the template changes, so a new template is applied', async () => {
    const other = templateFile('containers: [{name: log-shipper, image: "fluent/fluent-bit:3.1"}]');
    const first = await judged(NAME, pod, env, viaNamespace);
    const second = await judged(NAME, pod, { SIDECAR_TEMPLATE_FILE: other }, viaNamespace);
    assert.notEqual(
      first.object.metadata.annotations[INJECTED].split(' ')[0],
      second.object.metadata.annotations[INJECTED].split(' ')[0],
    );
    // Field order in the file does not change the hash.
    const reordered = templateFile('containers: [{image: "fluent/fluent-bit:3.1", name: log-shipper}]');
    const third = await judged(NAME, pod, { SIDECAR_TEMPLATE_FILE: reordered }, viaNamespace);
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
    {
      name: 'an unknown top-level field',
      text: 'sidecars: []',
      message:
        /: sidecars: is not a field of the sidecar template \(known: containers, initContainers, volumes\)/,
    },
    {
      name: 'a misspelt top-level field',
      text: 'container: [{name: a, image: a}]',
      message: /: container: is not a field of the sidecar template \(did you mean containers\?\)/,
    },
    {
      name: 'a misspelt securityContext field (the sidecar would run as root)',
      text: 'containers: [{name: a, image: a, securityContext: {runAsNonRot: true}}]',
      message:
        /containers\[0\]\.securityContext\.runAsNonRot: is not a field of a core\/v1 SecurityContext \(did you mean runAsNonRoot\?\)/,
    },
    {
      name: 'an unknown capabilities field',
      text: 'containers: [{name: a, image: a, securityContext: {capabilities: {remove: [ALL]}}}]',
      message:
        /containers\[0\]\.securityContext\.capabilities\.remove: is not a field of core\/v1 Capabilities/,
    },
    {
      name: 'a misspelt probe field',
      text: 'initContainers: [{name: a, image: a, restartPolicy: Always, readinessProbe: {httpget: {port: 80}}}]',
      message:
        /initContainers\[0\]\.readinessProbe\.httpget: is not a field of a core\/v1 Probe \(did you mean httpGet\?\)/,
    },
    {
      name: 'an unknown lifecycle field',
      text: 'containers: [{name: a, image: a, lifecycle: {preStart: {exec: {command: [x]}}}}]',
      message:
        /containers\[0\]\.lifecycle\.preStart: is not a field of a core\/v1 Lifecycle \(known: postStart, preStop, stopSignal\)/,
    },
    {
      name: 'a misspelt volume source',
      text: 'volumes: [{name: v, configmap: {name: c}}]',
      message: /volumes\[0\]\.configmap: is not a field of a core\/v1 Volume \(did you mean configMap\?\)/,
    },
    {
      name: 'a misspelt container field',
      text: 'containers: [{name: a, image: a, imagePullpolicy: Always}]',
      message:
        /containers\[0\]\.imagePullpolicy: is not a field of a core\/v1 Container \(did you mean imagePullPolicy\?\)/,
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

  describe('decides from what it verifies, not from what the pod says', () => {
    const template = loadSidecarTemplate(TEMPLATE);
    const shipper = template.containers[0] as Json;
    const withOwn = (container: Json, status?: string | null) =>
      edited(pod, (object) => {
        object.spec.containers.push(container);
        if (status != null) {
          object.metadata.annotations ??= {};
          object.metadata.annotations[INJECTED] = status;
        }
      });

    for (const [what, edit] of [
      ['command', (c: Json) => Object.assign(c, { command: ['sh', '-c', 'cat /var/run/secrets/*'] })],
      ['securityContext', (c: Json) => Object.assign(c, { securityContext: { runAsUser: 0 } })],
    ] as const) {
      it(`refuses a container of the template's name with an extra ${what}, even with a copied status`, async () => {
        const own = structuredClone(shipper);
        edit(own);
        const result = await judged(NAME, withOwn(own, template.status), env, viaNamespace);
        assert.equal(result.reply.response.status?.code, 409);
        assert.match(
          result.reply.response.status?.message ?? '',
          new RegExp(
            `^sidecar template containers\\[0\\] "log-shipper": the pod already has a container named "log-shipper" with a different definition \\(${what}: .* in the pod, nothing in the template\\)$`,
          ),
        );
      });
    }

    it('injects into a pod carrying a copied status annotation but not the sidecar', async () => {
      for (const status of [template.status, template.hash]) {
        const copied = annotated(pod, { [INJECTED]: status });
        const result = await judged(NAME, copied, env, viaNamespace);
        assert.deepEqual(names(result.object?.spec.containers), ['web', 'log-shipper']);
        assert.deepEqual(names(result.object?.spec.initContainers), ['egress-proxy']);
        assert.equal(result.object?.metadata.annotations[INJECTED], template.status);
      }
    });

    it("property: a pod container of the template name passes only when it is the template's", async () => {
      const seed = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 1_000_000));
      const samples = fc.sample(
        fc.record({ own: sidecarLookalike(shipper), status: forgedInjectedStatus(template.status) }),
        { numRuns: 200, seed },
      );
      const reviews = samples.map(({ own, status }) => withOwn(own.container, status));
      const replies = reviews.map((r) => answer(NAME, r, env, viaNamespace));
      const verdicts = await apiserverVerdicts(reviews.map((request, i) => ({ request, reply: replies[i] })));
      for (const [i, { own }] of samples.entries()) {
        const where = `seed ${seed}, sample ${i}: ${JSON.stringify(samples[i])}`;
        const verdict = verdicts[i];
        assert.ok(verdict?.accepted, `${where}: the apiserver refuses the reply`);
        if (own.hostile) {
          assert.equal(
            verdict.allowed,
            false,
            `${where}: a changed ${own.hostile} passed for the template's`,
          );
          assert.match(
            replies[i]?.response.status?.message ?? '',
            new RegExp(`different definition \\(${own.hostile}`),
            where,
          );
        } else {
          assert.ok(verdict.allowed, `${where}: ${replies[i]?.response.status?.message}`);
          const object = verdict.object as Json;
          // The rest of the template is there, whatever the status annotation said.
          assert.deepEqual(names(object.spec.initContainers), ['egress-proxy'], where);
          assert.equal(object.metadata.annotations[INJECTED], template.status, where);
        }
      }
    });
  });

  describe('checks the opt-in itself, from the review', () => {
    it('admits a pod that did not opt in unchanged, whatever entry or path sent it', async () => {
      for (const info of [
        viaPodEntry,
        { path: '/sidecar-injection' },
        { path: '/sidecar-injection/other' },
        undefined,
      ]) {
        await kit.expectUnchanged(pod, { info });
      }
    });

    it('injects into a pod annotated "true" on any entry, and never into one annotated "false"', async () => {
      const yes = annotated(pod, { [INJECT]: 'true' });
      const no = annotated(pod, { [INJECT]: 'false' });
      for (const info of [viaPodEntry, viaNamespace, undefined]) {
        const injected = await judged(NAME, yes, env, info);
        assert.deepEqual(
          names(injected.object?.spec.containers),
          ['web', 'log-shipper'],
          JSON.stringify(info),
        );
        const left = await judged(NAME, no, env, info);
        assert.deepEqual(left.patch, [], JSON.stringify(info));
      }
    });

    it('registers each entry on its own path, so the function knows which one called', () => {
      // deploy/ is what the generator writes (test/deploy-manifests.test.ts checks it).
      const text = readFileSync(join(projectRoot, 'deploy', 'webhooks.yaml'), 'utf8');
      assert.match(text, /name: sidecar-injection-namespace\.[\s\S]*?path: \/sidecar-injection\/namespace\n/);
      assert.match(text, /name: sidecar-injection-pod\.[\s\S]*?path: \/sidecar-injection\/pod\n/);
    });
  });
});
