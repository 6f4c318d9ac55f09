import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectRoot } from './support/apiserver.ts';
import { functionKit } from './support/function-kit.ts';
import { annotated, edited, type Json, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const VOLUMES = 'knative.netease.dev/volumes';
const MOUNTS = 'knative.netease.dev/volumeMounts';
// The fixture injects hostPath /usr/local/nagent4docker, which the sample policy allows.
// The fixture writes the design's hostPath without a type, which the sample policy refuses;
// this test policy also lists the unset type "" (see the file).
const env = { VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml') };

const userContainer = (pod: Json) => pod.spec.containers.find((c: Json) => c.name === 'user-container');
const withVolumes = (volumes: unknown, mounts?: unknown) =>
  annotated(knativePod, {
    [VOLUMES]: volumes === undefined ? undefined : JSON.stringify(volumes),
    [MOUNTS]: mounts === undefined ? undefined : JSON.stringify(mounts),
  });

describe('volume-extension', () => {
  const kit = functionKit('volume-extension', env);

  it('adds the annotated hostPath volume and mounts it into user-container only', async () => {
    await kit.expectPatched(knativePod, (pod, { patch }) => {
      assert.deepEqual(pod.spec.volumes.at(-1), {
        name: 'script-vol',
        hostPath: { path: '/usr/local/nagent4docker' },
      });
      assert.deepEqual(userContainer(pod).volumeMounts.at(-1), {
        name: 'script-vol',
        mountPath: '/usr/local/nagent',
      });
      const queueProxy = pod.spec.containers.find((c: Json) => c.name === 'queue-proxy');
      assert.deepEqual(queueProxy, knativePod.request.object.spec.containers[1]);
      // Only adds: nothing that was there is replaced, so other webhooks' patches survive.
      assert.deepEqual(
        patch.map((op) => `${op.op} ${op.path}`),
        ['add /spec/containers/0/volumeMounts/1', 'add /spec/volumes/1'],
      );
    });
  });

  // `unchanged`: the pod already is what the annotations ask for, so there is nothing to patch.
  const allowed: {
    name: string;
    volumes?: unknown;
    mounts?: unknown;
    unchanged?: boolean;
    check: (pod: Json) => void;
  }[] = [
    {
      name: 'several volume types, some without mounts',
      volumes: [
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'cfg', configMap: { name: 'app-config', items: [{ key: 'a', path: 'a.yaml' }] } },
        { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
      ],
      mounts: [
        { name: 'cache', mountPath: '/cache' },
        { name: 'cfg', mountPath: '/etc/app', readOnly: true },
      ],
      check: (pod) => {
        assert.deepEqual(
          pod.spec.volumes.map((v: Json) => v.name),
          ['kube-api-access-7x2kq', 'cache', 'cfg', 'data'],
        );
        assert.deepEqual(
          userContainer(pod).volumeMounts.map((m: Json) => m.mountPath),
          ['/var/run/secrets/kubernetes.io/serviceaccount', '/cache', '/etc/app'],
        );
      },
    },
    {
      name: 'volumes only',
      volumes: [{ name: 'scratch', emptyDir: {} }],
      check: (pod) => assert.equal(pod.spec.volumes.at(-1).name, 'scratch'),
    },
    {
      name: 'mounts of a volume the pod already has',
      mounts: [{ name: 'kube-api-access-7x2kq', mountPath: '/token', readOnly: true }],
      check: (pod) => assert.equal(userContainer(pod).volumeMounts.at(-1).mountPath, '/token'),
    },
    {
      name: 'a volume the pod already has, defaulted by the apiserver (reinvocation)',
      unchanged: true,
      volumes: [
        {
          name: 'kube-api-access-7x2kq',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              {
                downwardAPI: {
                  items: [
                    { path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } },
                  ],
                },
              },
            ],
          },
        },
      ],
      check: (pod) => assert.equal(pod.spec.volumes.length, 1),
    },
  ];
  for (const c of allowed) {
    it(`allows: ${c.name}`, async () => {
      const reviewed = withVolumes(c.volumes, c.mounts);
      if (!c.unchanged) await kit.expectPatched(reviewed, c.check);
      else {
        await kit.expectUnchanged(reviewed);
        c.check(reviewed.request.object);
      }
    });
  }

  const denied: {
    name: string;
    volumes?: unknown;
    mounts?: unknown;
    raw?: Record<string, string>;
    message: RegExp;
  }[] = [
    {
      name: 'bad JSON',
      raw: { [VOLUMES]: '[{"name":' },
      message: /denied the request: annotation knative\.netease\.dev\/volumes: not valid JSON/,
    },
    { name: 'not an array', volumes: { name: 'x' }, message: /volumes: .*expected array/ },
    {
      name: 'volume name not a DNS-1123 label',
      volumes: [{ name: 'Script_Vol', emptyDir: {} }],
      message: /volumes: item 0: name: "Script_Vol" must be a lowercase RFC 1123 label/,
    },
    {
      name: 'two sources',
      volumes: [{ name: 'x', emptyDir: {}, hostPath: { path: '/x' } }],
      message: /item 0: volume "x" must have exactly one source .*found emptyDir, hostPath/,
    },
    {
      name: 'no source',
      volumes: [{ name: 'x' }],
      message: /item 0: volume "x" must have exactly one source .*found none/,
    },
    {
      name: 'misspelt source',
      volumes: [{ name: 'x', hostpath: { path: '/x' } }],
      message: /item 0: hostpath: is not a field of a core\/v1 Volume/,
    },
    {
      name: 'relative hostPath',
      volumes: [{ name: 'x', hostPath: { path: 'usr/local' } }],
      message: /item 0: hostPath\.path: must be an absolute path/,
    },
    {
      name: 'unknown field in a source',
      volumes: [{ name: 'x', hostPath: { path: '/x', readonly: true } }],
      message: /item 0: hostPath.*readonly/,
    },
    {
      name: 'relative mountPath',
      volumes: [{ name: 'x', emptyDir: {} }],
      mounts: [{ name: 'x', mountPath: 'data' }],
      message: /volumeMounts: item 0: mountPath: must be an absolute path/,
    },
    {
      name: 'mount of an unknown volume',
      mounts: [{ name: 'nope', mountPath: '/nope' }],
      message:
        /volumeMounts: item 0: name: no volume named "nope" in the pod or in knative\.netease\.dev\/volumes/,
    },
    {
      name: 'two mounts on one mountPath',
      volumes: [
        { name: 'a', emptyDir: {} },
        { name: 'b', emptyDir: {} },
      ],
      mounts: [
        { name: 'a', mountPath: '/data' },
        { name: 'b', mountPath: '/data' },
      ],
      message:
        /volumeMounts: item 1: mountPath: "\/data" is already mounted in container "user-container" \(volume "a"\)/,
    },
    {
      name: 'mountPath already used by the pod',
      volumes: [{ name: 'a', emptyDir: {} }],
      mounts: [{ name: 'a', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
      message: /item 0: mountPath: .* is already mounted .*\(volume "kube-api-access-7x2kq"\)/,
    },
    {
      name: 'same name, different definition',
      volumes: [{ name: 'kube-api-access-7x2kq', emptyDir: {} }],
      message: /volumes: item 0: name: the pod already has a different volume named "kube-api-access-7x2kq"/,
    },
    {
      name: 'subPath escaping the volume',
      volumes: [{ name: 'a', emptyDir: {} }],
      mounts: [{ name: 'a', mountPath: '/a', subPath: '../etc' }],
      message: /item 0: subPath: must be a relative path without "\.\."/,
    },
  ];
  for (const c of denied) {
    it(`denies: ${c.name}`, async () => {
      const reviewed = c.raw ? annotated(knativePod, c.raw) : withVolumes(c.volumes, c.mounts);
      await kit.expectDenied(reviewed, '', c.message);
    });
  }

  it('denies mounts when the target container is missing, and honours TARGET_CONTAINER', async () => {
    const reviewed = edited(knativePod, (pod) => {
      pod.spec.containers[0].name = 'app';
    });
    await kit.expectDenied(
      reviewed,
      '',
      /the pod has no container named "user-container" \(containers: app, queue-proxy\)/,
    );
    await functionKit('volume-extension', { ...env, TARGET_CONTAINER: 'app' }).expectPatched(
      reviewed,
      (pod) => {
        assert.equal(pod.spec.containers[0].volumeMounts.at(-1).name, 'script-vol');
      },
    );
  });

  it('reads annotations under ANNOTATION_PREFIX', async () => {
    const reviewed = annotated(knativePod, {
      'example.com/volumes': '[{"name":"other","emptyDir":{}}]',
    });
    await functionKit('volume-extension', { ...env, ANNOTATION_PREFIX: 'example.com' }).expectPatched(
      reviewed,
      (pod) => {
        assert.deepEqual(
          pod.spec.volumes.map((v: Json) => v.name),
          ['kube-api-access-7x2kq', 'other'],
        );
      },
    );
  });
});

describe('volume-extension on a pod without volumes', () => {
  it('adds no empty lists when the annotations add nothing', async () => {
    const reviewed = edited(sharedFixture('plain-pod-no-labels.v1.json'), (pod) => {
      delete pod.spec.volumes;
      delete pod.spec.containers[0].volumeMounts;
      pod.metadata.annotations = {
        'knative.netease.dev/volumes': '[]',
        'knative.netease.dev/volumeMounts': '[]',
      };
      pod.spec.containers[0].name = 'user-container';
    });
    await functionKit('volume-extension').expectUnchanged(reviewed);
  });

  it('creates the lists when something goes in', async () => {
    const reviewed = edited(sharedFixture('plain-pod-no-labels.v1.json'), (pod) => {
      delete pod.spec.volumes;
      delete pod.spec.containers[0].volumeMounts;
      pod.metadata.annotations = {
        'knative.netease.dev/volumes': '[{"name":"cache","emptyDir":{}}]',
        'knative.netease.dev/volumeMounts': '[{"name":"cache","mountPath":"/cache"}]',
      };
      pod.spec.containers[0].name = 'user-container';
    });
    await functionKit('volume-extension').expectPatched(reviewed, (_pod, { patch }) => {
      assert.deepEqual(
        patch.map((op) => `${op.op} ${op.path}`),
        ['add /spec/containers/0/volumeMounts', 'add /spec/volumes'],
      );
    });
  });
});
