// `npm run manifests -- --endpoint URL --kubernetes-version X.Y`: webhooks that call a URL
// (an ingress, an OpenFaaS gateway, a server outside the cluster) instead of the in-cluster
// Service, and manifests without the fields an older cluster predates.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { functions } from '../functions/index.ts';
import { projectRoot } from './support/apiserver.ts';
import { manifestProblems } from './support/k8s-schemas.ts';
import type { Json } from './support/reviews.ts';
import { makeTestCertificates } from './support/test-certs.ts';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(projectRoot, 'scripts', 'manifests.ts'), ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
  });

describe('npm run manifests -- --endpoint / --kubernetes-version', () => {
  let dir: string;
  let bundleFile: string;
  let bundle: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'faas-admission-endpoint-'));
    const { caPem } = makeTestCertificates(dir, ['hooks.example.com']);
    bundle = Buffer.from(caPem).toString('base64');
    bundleFile = join(dir, 'ca-bundle.b64');
    writeFileSync(bundleFile, `${bundle}\n`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const generate = (out: string, ...args: string[]) => {
    const result = cli('--out', join(dir, out), '--ca-bundle', bundleFile, ...args);
    assert.equal(result.status, 0, result.stderr);
    const text = readFileSync(join(dir, out, 'webhooks.yaml'), 'utf8');
    const objects = parseAllDocuments(text).map((d) => d.toJS() as Json);
    return { text, objects, webhooks: objects.flatMap((o) => o.webhooks as Json[]) };
  };

  it('writes clientConfig.url (base + /<function>) and the caBundle, per function when named', () => {
    const { objects, webhooks } = generate(
      'url',
      '--endpoint',
      'https://hooks.example.com:9443/',
      '--endpoint',
      'label-stamping=https://gateway.example.com/function',
    );
    for (const object of objects) assert.deepEqual(manifestProblems(object), [], object.kind);
    assert.ok(webhooks.length >= functions.size);
    for (const webhook of webhooks) {
      assert.equal(webhook.clientConfig.service, undefined, webhook.name);
      assert.equal(webhook.clientConfig.caBundle, bundle);
      const fn = [...functions.keys()].find(
        (name) => webhook.name.startsWith(`${name}.`) || webhook.name.startsWith(`${name}-`),
      );
      const base =
        fn === 'label-stamping' ? 'https://gateway.example.com/function' : 'https://hooks.example.com:9443';
      assert.ok(
        webhook.clientConfig.url.startsWith(`${base}/${fn}`),
        `${webhook.name}: ${webhook.clientConfig.url}`,
      );
    }
  });

  it('keeps matchConditions by default and leaves them out for a cluster older than 1.28, saying so', () => {
    const current = generate('current', '--endpoint', 'https://hooks.example.com');
    const withConditions = current.webhooks.filter((w) => w.matchConditions);
    assert.ok(withConditions.length > 0, 'some function registers matchConditions');
    const old = generate('old', '--endpoint', 'https://hooks.example.com', '--kubernetes-version', '1.20');
    assert.deepEqual(
      old.webhooks.filter((w) => w.matchConditions),
      [],
    );
    for (const webhook of withConditions) {
      assert.ok(old.webhooks.some((w) => w.name === webhook.name));
      const names = (webhook.matchConditions as Json[]).map((c) => c.name).join(', ');
      assert.ok(old.text.includes(`predates matchConditions (1.28+): "${names}" left out`), names);
    }
    // Before 1.21 the namespace label the selectors rely on is written on the own namespace.
    const namespace = readFileSync(join(dir, 'old', 'namespace.yaml'), 'utf8');
    assert.match(namespace, /kubernetes\.io\/metadata\.name: faas-admission/);
    assert.match(old.text, /before 1\.21 does not label namespaces/);
    const v128 = generate('v128', '--endpoint', 'https://hooks.example.com', '--kubernetes-version', '1.28');
    assert.equal(v128.webhooks.filter((w) => w.matchConditions).length, withConditions.length);
    assert.doesNotMatch(readFileSync(join(dir, 'v128', 'namespace.yaml'), 'utf8'), /metadata\.name/);
  });

  it('refuses endpoints and versions the apiserver would not take, naming the option', () => {
    const refused: [string[], RegExp][] = [
      [
        ['--endpoint', 'http://hooks.example.com'],
        /--endpoint: "http:\/\/hooks\.example\.com" must be https/,
      ],
      [['--endpoint', 'https://hooks.example.com/?a=1'], /must not have a query/],
      [['--endpoint', 'https://u:p@hooks.example.com'], /must not carry a user/],
      [['--endpoint', 'nope=https://hooks.example.com'], /no function "nope"/],
      [['--endpoint', 'label-stamping=https://hooks.example.com'], /--endpoint: no URL for volume-extension/],
      [['--kubernetes-version', '1.15'], /needs Kubernetes 1\.16 or later/],
      [['--kubernetes-version', 'latest'], /"latest" is not MAJOR\.MINOR/],
    ];
    for (const [args, message] of refused) {
      const result = cli('--check', '--ca-bundle', bundleFile, ...args);
      assert.equal(result.status, 2, args.join(' '));
      assert.match(result.stderr, message);
    }
    const noBundle = cli('--check', '--endpoint', 'https://hooks.example.com');
    assert.equal(noBundle.status, 2);
    assert.match(noBundle.stderr, /--endpoint needs --ca-bundle/);
  });
});
