import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { functionKit } from './support/function-kit.ts';
import { edited, type Json, sample, sharedFixture } from './support/reviews.ts';
import { assertSchemaValid } from './support/schemas.ts';

const NAME = 'image-mirror';
const env = {
  IMAGE_MIRRORS: [
    'docker.io=mirror.example.com/dockerhub',
    'quay.io=mirror.example.com/quay',
    'gcr.io=mirror.example.com/gcr',
    'registry.k8s.io=mirror.example.com/k8s',
    'ghcr.io=mirror.example.com:8443/ghcr',
  ].join(','),
};
const DIGEST = `sha256:${'0c3a1e5b7d9f2c4e'.repeat(4)}`;
const images = (pod: Json, list = 'containers') => pod.spec[list].map((c: Json) => c.image);

describe('image-mirror', () => {
  const kit = functionKit(NAME, env);

  it('rewrites the images of a new pod from public registries, and nothing else', async () => {
    await kit.expectPatched(sample('image-mirror/pod.json'), (pod, { patch }) => {
      assert.deepEqual(images(pod), [
        'mirror.example.com/dockerhub/library/nginx:1.27',
        'mirror.example.com/quay/prometheus/nginx-exporter:v1.3.0',
        'mirror.example.com/gcr/knative-releases/knative.dev/serving/cmd/queue@sha256:0c3a1e5b7d9f2c4e6a8b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a2c',
        'mirror.example.com/k8s/pause:3.10',
        'mirror.example.com:8443/ghcr/example-org/tool:v0.9.0@sha256:4a5c3e2b1d0f9e8d7c6b5a4938271605f4e3d2c1b0a99887766554433221100f',
        'registry.example.com:5000/team/internal:1.0',
      ]);
      assert.deepEqual(images(pod, 'initContainers'), ['mirror.example.com/dockerhub/acme/config-loader:3']);
      // One replace per rewritten image; nothing else in the pod moves.
      assert.deepEqual(patch.map((op) => `${op.op} ${op.path}`).sort(), [
        'replace /spec/containers/0/image',
        'replace /spec/containers/1/image',
        'replace /spec/containers/2/image',
        'replace /spec/containers/3/image',
        'replace /spec/containers/4/image',
        'replace /spec/initContainers/0/image',
      ]);
      assertSchemaValid('pod-v1.json', pod, 'the mirrored pod');
    });
  });

  const rewrites: [image: string, expected: string][] = [
    ['nginx', 'mirror.example.com/dockerhub/library/nginx'],
    ['nginx:1.25', 'mirror.example.com/dockerhub/library/nginx:1.25'],
    ['user/app', 'mirror.example.com/dockerhub/user/app'],
    ['user/app:v2', 'mirror.example.com/dockerhub/user/app:v2'],
    ['docker.io/nginx', 'mirror.example.com/dockerhub/library/nginx'],
    ['docker.io/library/nginx:latest', 'mirror.example.com/dockerhub/library/nginx:latest'],
    ['index.docker.io/user/app:1', 'mirror.example.com/dockerhub/user/app:1'],
    [`nginx@${DIGEST}`, `mirror.example.com/dockerhub/library/nginx@${DIGEST}`],
    [`nginx:1.25@${DIGEST}`, `mirror.example.com/dockerhub/library/nginx:1.25@${DIGEST}`],
    ['quay.io/coreos/etcd:v3.5.15', 'mirror.example.com/quay/coreos/etcd:v3.5.15'],
    ['registry.k8s.io/coredns/coredns:v1.11.3', 'mirror.example.com/k8s/coredns/coredns:v1.11.3'],
    ['ghcr.io/org/tool', 'mirror.example.com:8443/ghcr/org/tool'],
    // Left alone: already on a mirror, other registries, other ports of a mirrored host.
    ['mirror.example.com/dockerhub/library/nginx:1.25', 'mirror.example.com/dockerhub/library/nginx:1.25'],
    ['registry.example.com/team/app:1.0', 'registry.example.com/team/app:1.0'],
    ['localhost:5000/app', 'localhost:5000/app'],
    ['quay.io:443/coreos/etcd', 'quay.io:443/coreos/etcd'],
    ['us.gcr.io/project/app', 'us.gcr.io/project/app'],
  ];
  for (const [image, expected] of rewrites) {
    it(`${image} -> ${expected === image ? 'unchanged' : expected}`, async () => {
      const review = edited(sharedFixture('plain-pod-no-labels.v1.json'), (pod) => {
        pod.spec.containers[0].image = image;
      });
      if (expected === image) await kit.expectUnchanged(review);
      else
        await kit.expectPatched(review, (pod, { patch }) => {
          assert.equal(pod.spec.containers[0].image, expected);
          assert.equal(patch.length, 1);
        });
    });
  }

  it('rewrites only the new ephemeral container of `kubectl debug` (pods/ephemeralcontainers)', async () => {
    await kit.expectPatched(sample('image-mirror/ephemeral-container.json'), (pod, { patch }) => {
      assert.deepEqual(
        patch.map((op) => `${op.op} ${op.path}`),
        ['replace /spec/ephemeralContainers/0/image'],
      );
      assert.equal(
        pod.spec.ephemeralContainers[0].image,
        'mirror.example.com/dockerhub/library/busybox:1.36',
      );
      // The running container keeps its image: changing it would restart it.
      assert.equal(pod.spec.containers[0].image, 'nginx:1.27');
    });
  });

  it('leaves ephemeral containers added earlier alone (they cannot change)', async () => {
    const review = edited(sample('image-mirror/ephemeral-container.json'), (pod, request) => {
      request.oldObject.spec.ephemeralContainers = structuredClone(pod.spec.ephemeralContainers);
      pod.spec.ephemeralContainers.push({
        ...pod.spec.ephemeralContainers[0],
        name: 'debugger-9zq4m',
        image: 'alpine:3.20',
      });
    });
    await kit.expectPatched(review, (pod) => {
      assert.deepEqual(
        pod.spec.ephemeralContainers.map((c: Json) => c.image),
        ['busybox:1.36', 'mirror.example.com/dockerhub/library/alpine:3.20'],
      );
    });
  });

  it('on UPDATE rewrites a changed image (kubectl set image) and no other', async () => {
    const review = edited(sample('image-mirror/ephemeral-container.json'), (pod, request) => {
      request.subResource = undefined;
      request.requestSubResource = undefined;
      delete pod.spec.ephemeralContainers;
      request.oldObject.spec.containers.push({ name: 'sidecar', image: 'busybox:1.36' });
      pod.spec.containers.push({ name: 'sidecar', image: 'busybox:1.36' });
      pod.spec.containers[0].image = 'nginx:1.28';
    });
    await kit.expectPatched(review, (pod) => {
      assert.deepEqual(images(pod), ['mirror.example.com/dockerhub/library/nginx:1.28', 'busybox:1.36']);
    });
  });

  it('on UPDATE that changes no image (a label) changes nothing', async () => {
    const review = edited(sample('image-mirror/ephemeral-container.json'), (pod, request) => {
      request.subResource = undefined;
      request.requestSubResource = undefined;
      delete pod.spec.ephemeralContainers;
      pod.metadata.labels.tier = 'frontend';
    });
    await kit.expectUnchanged(review);
  });

  it('warns about an image it cannot read and leaves it', async () => {
    const review = edited(sharedFixture('plain-pod-no-labels.v1.json'), (pod) => {
      pod.spec.containers[0].image = 'Busybox:latest';
    });
    const warnings = await kit.expectUnchanged(review);
    assert.match(
      warnings[0] ?? '',
      /image-mirror: spec\.containers\[0\]\.image "Busybox:latest" path component "Busybox" must be lower-case/,
    );
  });

  it('does nothing without IMAGE_MIRRORS, and nothing on other subresources', async () => {
    await functionKit(NAME).expectUnchanged(sample('image-mirror/pod.json'));
    const status = edited(sample('image-mirror/ephemeral-container.json'), (_pod, request) => {
      request.subResource = 'status';
    });
    await kit.expectUnchanged(status);
  });

  const badConfig: [value: string, message: RegExp][] = [
    ['docker.io', /IMAGE_MIRRORS: entry "docker\.io": expected <registry>=<mirror>/],
    [
      'docker.io=mirror/dockerhub',
      /mirror "mirror\/dockerhub" must start with a registry host containing "\." or ":"/,
    ],
    ['docker.io=mirror.example.com/Hub', /path component "Hub" must be lower-case/],
    ['bad_host=mirror.example.com', /registry "bad_host" must be a registry host/],
    ['docker.io=a.example.com,index.docker.io=b.example.com', /registry "docker\.io" is given twice/],
    [
      'quay.io=mirror.example.com/quay,mirror.example.com=other.example.com',
      /mirror's host "mirror\.example\.com" is itself mirrored/,
    ],
    ['docker.io=quay.io/hub,quay.io=mirror.example.com/quay', /mirror's host "quay\.io" is itself mirrored/],
  ];
  for (const [value, message] of badConfig) {
    it(`refuses to start with IMAGE_MIRRORS=${value}`, () => {
      assert.throws(() => loadConfig(functionNamed(NAME), { IMAGE_MIRRORS: value }), message);
    });
  }

  it('reads entries one per line with comments, as from a mounted file', () => {
    const config = loadConfig(functionNamed(NAME), {
      IMAGE_MIRRORS:
        '# public registries\ndocker.io = mirror.example.com/hub/ \n\nquay.io=mirror.example.com/quay # quay\n',
    }) as { mirrors: Map<string, string> };
    assert.deepEqual(
      [...config.mirrors],
      [
        ['docker.io', 'mirror.example.com/hub'],
        ['quay.io', 'mirror.example.com/quay'],
      ],
    );
  });
});
