import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { webhookSettings } from '../shared/mutation.ts';
import { functionKit } from './support/function-kit.ts';
import { edited, type Json, sample, sharedFixture } from './support/reviews.ts';
import { assertSchemaValid } from './support/schemas.ts';
import { matchingEntries } from './support/webhook.ts';

const NAME = 'config-volume';
const hello = sample('config-volume/hello-pod.json');
const knative = sharedFixture('knative-pod-netease-annotations.v1.json');
const mountsOf = (container: Json) =>
  (container.volumeMounts ?? []).map((m: Json) => `${m.name}:${m.mountPath}`);

describe('config-volume', () => {
  const kit = functionKit(NAME);

  it('is the hello webhook by default: ConfigMap at /etc/config, label hello-added=OK', async () => {
    await kit.expectPatched(hello, (pod, { patch }) => {
      assert.deepEqual(pod.spec.volumes.at(-1), {
        name: 'hello-volume',
        configMap: { name: 'hello-configmap' },
      });
      assert.deepEqual(pod.spec.containers[0].volumeMounts.at(-1), {
        name: 'hello-volume',
        mountPath: '/etc/config',
        readOnly: true,
      });
      assert.deepEqual(pod.metadata.labels, { hello: 'true', 'hello-added': 'OK' });
      assert.deepEqual(patch.map((op) => `${op.op} ${op.path}`).sort(), [
        'add /metadata/labels/hello-added',
        'add /spec/containers/0/volumeMounts/1',
        'add /spec/volumes/1',
      ]);
      assertSchemaValid('pod-v1.json', pod, 'the pod');
    });
  });

  it('mounts into every container, init containers when asked, as configured', async () => {
    const env = {
      POD_SELECTOR: 'serving.knative.dev/service',
      CONFIG_VOLUME: '{"name":"platform-ca","secret":{"secretName":"platform-ca","defaultMode":292}}',
      MOUNT_PATH: '/etc/platform/ca',
      MOUNT_READ_ONLY: 'false',
      MOUNT_INIT_CONTAINERS: 'true',
      STAMP_LABELS: 'platform.example.com/ca=mounted,platform.example.com/by={user}',
    };
    const review = edited(knative, (pod) => {
      pod.spec.initContainers = [{ name: 'migrate', image: 'registry.example.com/migrate:1' }];
    });
    await functionKit(NAME, env).expectPatched(review, (pod) => {
      for (const container of [...pod.spec.containers, ...pod.spec.initContainers]) {
        assert.deepEqual(container.volumeMounts.at(-1), {
          name: 'platform-ca',
          mountPath: '/etc/platform/ca',
        });
      }
      assert.equal(pod.metadata.labels['platform.example.com/ca'], 'mounted');
      assert.equal(
        pod.metadata.labels['platform.example.com/by'],
        'system-serviceaccount-kube-system-replicaset-controller',
      );
      assertSchemaValid('pod-v1.json', pod, 'the pod');
    });
  });

  it('accepts the volume back as the apiserver stores it (defaults added) on reinvocation', async () => {
    const review = edited(hello, (pod) => {
      pod.spec.volumes.push({
        name: 'hello-volume',
        configMap: { name: 'hello-configmap', defaultMode: 420 },
      });
    });
    await kit.expectPatched(review, (pod) => {
      assert.deepEqual(mountsOf(pod.spec.containers[0]).at(-1), 'hello-volume:/etc/config');
      assert.equal(pod.spec.volumes.length, 2);
    });
  });

  const untouched: { name: string; review: Json; env?: Record<string, string> }[] = [
    { name: 'a pod without the label', review: sharedFixture('plain-pod-no-labels.v1.json') },
    {
      name: 'a pod whose label has another value',
      review: edited(hello, (pod) => {
        pod.metadata.labels.hello = 'false';
      }),
    },
  ];
  for (const c of untouched) {
    it(`leaves alone ${c.name}`, async () => {
      await functionKit(NAME, c.env).expectUnchanged(c.review);
    });
  }

  it('keeps a label the pod has with another value, with a warning; OVERWRITE_LABELS=true replaces it', async () => {
    const review = edited(hello, (pod) => {
      pod.metadata.labels['hello-added'] = 'earlier';
    });
    await kit.expectPatched(review, (pod, { warnings }) => {
      assert.equal(pod.metadata.labels['hello-added'], 'earlier');
      assert.match(warnings[0] ?? '', /config-volume: label "hello-added" kept as "earlier"/);
    });
    await functionKit(NAME, { OVERWRITE_LABELS: 'true' }).expectPatched(review, (pod) => {
      assert.equal(pod.metadata.labels['hello-added'], 'OK');
    });
  });

  const denials: { name: string; review: Json; message: RegExp }[] = [
    {
      name: 'a different volume of the same name',
      review: edited(hello, (pod) => {
        pod.spec.volumes.push({ name: 'hello-volume', emptyDir: {} });
      }),
      message:
        /CONFIG_VOLUME: the pod already has a different volume named "hello-volume" \(configMap: nothing in the pod, \{"name":"hello-configmap"\} in the configuration\)/,
    },
    {
      name: 'the mount path taken by another volume',
      review: edited(hello, (pod) => {
        pod.spec.volumes.push({ name: 'own-config', emptyDir: {} });
        pod.spec.containers[0].volumeMounts.push({ name: 'own-config', mountPath: '/etc/config' });
      }),
      message:
        /MOUNT_PATH: spec\.containers\[0\] \("hello"\) already mounts volume "own-config" at \/etc\/config/,
    },
  ];
  for (const c of denials) {
    it(`denies ${c.name}`, async () => {
      await kit.expectDenied(c.review, '', c.message, { code: 409 });
    });
  }

  const badConfig: [Record<string, string>, RegExp][] = [
    [{ POD_SELECTOR: 'Hello World=true' }, /POD_SELECTOR: label key "Hello World"/],
    [{ POD_SELECTOR: 'hello=yes please' }, /POD_SELECTOR: label value "yes please"/],
    [{ CONFIG_VOLUME: '{"name":' }, /CONFIG_VOLUME: not valid JSON/],
    [{ CONFIG_VOLUME: '{"name":"v"}' }, /CONFIG_VOLUME: volume "v" must have exactly one source/],
    [
      { CONFIG_VOLUME: '{"name":"v","configmap":{"name":"x"}}' },
      /CONFIG_VOLUME: configmap: is not a field of a core\/v1 Volume/,
    ],
    [{ MOUNT_PATH: 'etc/config' }, /MOUNT_PATH: must be an absolute path/],
    [{ STAMP_LABELS: 'novalue' }, /STAMP_LABELS: entry "novalue": expected key=value/],
    [{ MOUNT_READ_ONLY: 'maybe' }, /MOUNT_READ_ONLY/],
  ];
  for (const [bad, message] of badConfig) {
    it(`refuses to start with ${JSON.stringify(bad)}`, () => {
      assert.throws(() => loadConfig(functionNamed(NAME), bad), message);
    });
  }

  it('is registered with an objectSelector for the configured label', () => {
    const mutation = functionNamed(NAME);
    const sent = (env: Record<string, string>, review: Json) =>
      matchingEntries(webhookSettings(mutation, loadConfig(mutation, env)), {
        namespaceLabels: {},
        request: review.request,
      });
    assert.deepEqual(sent({}, hello), ['labelled']);
    assert.deepEqual(
      sent(
        {},
        edited(hello, (pod) => {
          pod.metadata.labels.hello = 'no';
        }),
      ),
      [],
    );
    assert.deepEqual(sent({}, sharedFixture('plain-pod-no-labels.v1.json')), []);
    assert.deepEqual(sent({ POD_SELECTOR: 'serving.knative.dev/service' }, knative), ['labelled']);
    assert.deepEqual(sent({ POD_SELECTOR: 'serving.knative.dev/service' }, hello), []);
    assert.equal(webhookSettings(mutation, loadConfig(mutation, {})).failurePolicy, 'Fail');
  });
});
