import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImageReference, parseImageReference } from '../shared/k8s/image-reference.ts';

const DIGEST = `sha256:${'4a5c3e2b1d0f9e8d'.repeat(4)}`;

describe('image references', () => {
  const parsed: [image: string, registry: string, repository: string, tag?: string, digest?: string][] = [
    ['nginx', 'docker.io', 'library/nginx'],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25'],
    ['user/app', 'docker.io', 'user/app'],
    ['user/app:v2', 'docker.io', 'user/app', 'v2'],
    ['docker.io/nginx', 'docker.io', 'library/nginx'],
    ['docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'latest'],
    ['index.docker.io/nginx', 'docker.io', 'library/nginx'],
    ['index.docker.io/user/app', 'docker.io', 'user/app'],
    ['DOCKER.IO/user/app', 'docker.io', 'user/app'],
    [
      'gcr.io/knative-releases/knative.dev/serving/cmd/queue',
      'gcr.io',
      'knative-releases/knative.dev/serving/cmd/queue',
    ],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io', 'pause', '3.10'],
    ['quay.io/prometheus/node-exporter:v1.8.2', 'quay.io', 'prometheus/node-exporter', 'v1.8.2'],
    ['ghcr.io/org/tool', 'ghcr.io', 'org/tool'],
    // Hosts: a port, localhost, an IPv6 literal, a capital letter.
    ['registry.example.com:5000/team/app:1.0', 'registry.example.com:5000', 'team/app', '1.0'],
    ['host:5000/app', 'host:5000', 'app'],
    ['localhost/app', 'localhost', 'app'],
    ['localhost:5000/app:dev', 'localhost:5000', 'app', 'dev'],
    ['[::1]:5000/app', '[::1]:5000', 'app'],
    ['Registry/app', 'registry', 'app'],
    // Not hosts: no dot, colon or capital in the first component.
    ['library/nginx', 'docker.io', 'library/nginx'],
    ['my-registry/app', 'docker.io', 'my-registry/app'],
    // Digests, with and without a tag; the tag only in the last component.
    [`nginx@${DIGEST}`, 'docker.io', 'library/nginx', undefined, DIGEST],
    [`nginx:1.25@${DIGEST}`, 'docker.io', 'library/nginx', '1.25', DIGEST],
    [`host:5000/app@${DIGEST}`, 'host:5000', 'app', undefined, DIGEST],
    [`host:5000/app:v1@${DIGEST}`, 'host:5000', 'app', 'v1', DIGEST],
    ['a.b/c.d/e_f__g-h---i', 'a.b', 'c.d/e_f__g-h---i'],
  ];
  for (const [image, registry, repository, tag, digest] of parsed) {
    it(`reads ${image}`, () => {
      const expected = { registry, repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
      assert.deepEqual(parseImageReference(image), expected);
    });
  }

  it('writes a reference out in full', () => {
    const ref = parseImageReference(`nginx:1.25@${DIGEST}`);
    assert.ok(typeof ref !== 'string');
    assert.equal(formatImageReference(ref), `docker.io/library/nginx:1.25@${DIGEST}`);
    assert.equal(
      formatImageReference({ registry: 'm.example.com/hub', repository: 'user/app' }),
      'm.example.com/hub/user/app',
    );
  });

  const invalid: [image: string, problem: RegExp][] = [
    ['', /empty/],
    [' nginx', /spaces/],
    ['Nginx', /path component "Nginx"/],
    ['docker.io/User/app', /path component "User"/],
    ['app:', /tag ""/],
    ['app:-bad', /tag "-bad"/],
    ['app@sha256:abc', /digest "sha256:abc"/],
    [`app@sha256:${'A'.repeat(64)}`, /lower-case hex/],
    ['bad_host.example.com/app', /registry "bad_host.example.com"/],
    ['host.example.com/', /no repository/],
    ['a//b', /path component ""/],
    [`r.io/${'a'.repeat(260)}`, /no more than 255/],
  ];
  for (const [image, problem] of invalid) {
    it(`rejects ${JSON.stringify(image.slice(0, 40))}`, () => {
      const result = parseImageReference(image);
      assert.equal(typeof result, 'string', `parsed as ${JSON.stringify(result)}`);
      assert.match(result as string, problem);
    });
  }
});
