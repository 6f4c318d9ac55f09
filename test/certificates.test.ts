// `npm run cert` and the development certificate: what they write, checked as Kubernetes
// (the Secret's schema), OpenSSL (Node's X.509) and Go (the apiserver's TLS client) see it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { ensureDevCertificates, LOCAL_HOSTS } from '../runtimes/tls/dev-certs.ts';
import { apiserverVerdict, projectRoot, sharedDir } from './support/apiserver.ts';
import { goWebhookClient } from './support/go-webhook-client.ts';
import type { Json } from './support/reviews.ts';
import { runEntry, STANDALONE, STANDALONE_URL, startEntry, temporaryDirectory } from './support/runtimes.ts';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';

describe('npm run cert', () => {
  const out = temporaryDirectory('cert');
  after(() => out.remove());
  const cert = (...args: string[]) => runEntry('cli/cert.ts', {}, args);
  const read = (name: string) => readFileSync(join(out.dir, name), 'utf8');

  it('writes a CA, a serving certificate for the Service names, a TLS Secret and the caBundle', async () => {
    const run = await cert(
      '--service',
      'faas-admission',
      '--namespace',
      'webhooks',
      '--out',
      out.dir,
      '--days',
      '90',
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /made a new CA/);
    assert.match(run.stdout, /kubectl apply -f .*secret\.yaml/);

    const ca = new X509Certificate(read('ca.crt'));
    const serving = new X509Certificate(read('tls.crt'));
    assert.equal(ca.ca, true);
    assert.equal(serving.ca, false);
    assert.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'not signed by the CA');
    assert.ok(serving.checkPrivateKey(createPrivateKey(read('tls.key'))));
    assert.ok(ca.checkPrivateKey(createPrivateKey(read('ca.key'))));
    assert.equal(
      serving.subjectAltName,
      'DNS:faas-admission.webhooks.svc, DNS:faas-admission, DNS:faas-admission.webhooks, DNS:faas-admission.webhooks.svc.cluster.local',
    );
    assert.deepEqual(serving.keyUsage, [SERVER_AUTH]);
    const days = (new Date(serving.validTo).getTime() - Date.now()) / 86_400_000;
    assert.ok(days > 89 && days <= 90, `valid for ${days} days`);
    for (const key of ['ca.key', 'tls.key', 'secret.yaml']) {
      assert.equal(statSync(join(out.dir, key)).mode & 0o077, 0, `${key} is readable by others`);
    }

    assert.equal(Buffer.from(read('ca-bundle.b64').trim(), 'base64').toString('utf8'), read('ca.crt'));
    // Every PEM file ends its last line, so that files joined into a bundle stay separate PEMs.
    for (const file of ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']) {
      assert.match(read(file), /-----\n$/, `${file} has no final newline`);
    }
    const joined = read('ca.crt') + read('tls.crt');
    assert.equal(joined.match(/^-----BEGIN CERTIFICATE-----$/gm)?.length, 2, joined);
  });

  it("writes a Secret that validates against Kubernetes' schema, with the files it wrote", () => {
    const secret: Json = parse(read('secret.yaml'));
    const schema = JSON.parse(
      readFileSync(join(sharedDir, 'schemas', 'kubernetes', 'secret-v1.json'), 'utf8'),
    );
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addFormat('byte', /^[A-Za-z0-9+/]*={0,2}$/);
    const validate = ajv.compile<Json>(schema);
    assert.ok(validate(secret), ajv.errorsText(validate.errors));
    assert.deepEqual(
      {
        kind: secret.kind,
        type: secret.type,
        name: secret.metadata.name,
        namespace: secret.metadata.namespace,
      },
      { kind: 'Secret', type: 'kubernetes.io/tls', name: 'faas-admission-tls', namespace: 'webhooks' },
    );
    const decoded = (key: string) => Buffer.from(secret.data[key], 'base64').toString('utf8');
    assert.equal(decoded('tls.crt'), read('tls.crt'));
    assert.equal(decoded('tls.key'), read('tls.key'));
    assert.equal(decoded('ca.crt'), read('ca.crt'));
  });

  it("is served by the standalone server from TLS_CERT_FILE, and Go's TLS client (the apiserver's) accepts it", async () => {
    const server = await startEntry(
      STANDALONE,
      {
        PORT: '0',
        TLS_CERT_FILE: join(out.dir, 'tls.crt'),
        TLS_KEY_FILE: join(out.dir, 'tls.key'),
        // The fixture injects hostPath /usr/local/nagent4docker, which the sample policy allows.
        VOLUME_POLICY_FILE: join(projectRoot, 'test', 'support', 'policies', 'untyped-hostpath.yaml'),
      },
      STANDALONE_URL,
      'stdout',
    );
    try {
      const fixture = join(sharedDir, 'fixtures', 'knative-pod-netease-annotations.v1.json');
      const { stdout } = await promisify(execFile)(goWebhookClient(), [
        '-ca',
        join(out.dir, 'ca.crt'),
        '-servername',
        'faas-admission.webhooks.svc',
        '-body',
        fixture,
        `${server.url}/volume-extension?timeout=10s`,
      ]);
      const [status, ...body] = stdout.split('\n');
      assert.match(status ?? '', /^200 TLSv1\.3 TLS_AES_128_GCM_SHA256$/);
      const verdict = await apiserverVerdict(
        JSON.parse(readFileSync(fixture, 'utf8')),
        JSON.parse(body.join('\n')),
      );
      assert.equal(verdict.accepted && verdict.allowed, true, JSON.stringify(verdict));
      // A name the certificate is not for: Go refuses it.
      await assert.rejects(
        promisify(execFile)(goWebhookClient(), [
          ...['-ca', join(out.dir, 'ca.crt'), '-servername', 'other.webhooks.svc', '-body', fixture],
          `${server.url}/volume-extension`,
        ]),
        /certificate is valid for faas-admission\.webhooks\.svc.*not other\.webhooks\.svc/,
      );
    } finally {
      await server.stop();
    }
  });

  it('renews with the same CA, so the caBundle stays; --new-ca replaces it', async () => {
    const caBefore = read('ca.crt');
    const servingBefore = read('tls.crt');
    const again = await cert('--service', 'faas-admission', '--namespace', 'webhooks', '--out', out.dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /reused the CA .*\(the caBundle is unchanged\)/);
    assert.equal(read('ca.crt'), caBefore);
    assert.notEqual(read('tls.crt'), servingBefore);
    assert.ok(new X509Certificate(read('tls.crt')).checkIssued(new X509Certificate(caBefore)));
    const fresh = await cert(
      '--service',
      'faas-admission',
      '--namespace',
      'webhooks',
      '--out',
      out.dir,
      '--new-ca',
    );
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.notEqual(read('ca.crt'), caBefore);
  });

  const refused: [string[], RegExp][] = [
    [['--namespace', 'webhooks'], /--service is required/],
    [
      ['--service', 'Faas', '--namespace', 'webhooks'],
      /--service: "Faas" must be a lowercase RFC 1123 label/,
    ],
    [['--service', '9faas', '--namespace', 'webhooks'], /--service: "9faas" must start with a letter/],
    [
      ['--service', 'faas', '--namespace', 'web_hooks'],
      /--namespace: "web_hooks" must be a lowercase RFC 1123 label/,
    ],
    [['--service', 'faas', '--namespace', 'webhooks', '--days', '0'], /--days: "0" is not a number of days/],
    [['--service', 'faas', '--namespace', 'webhooks', '--dayz', '3'], /Unknown option '--dayz'/],
  ];
  it('refuses bad arguments with exit 2 and says which', async () => {
    const runs = await Promise.all(refused.map(([args]) => cert(...args, '--out', join(out.dir, 'refused'))));
    runs.forEach((run, index) => {
      const [args, message] = refused[index] as [string[], RegExp];
      assert.equal(run.code, 2, args.join(' '));
      assert.match(run.stderr, message);
    });
  });

  it('refuses a CA whose key does not match, instead of issuing from it', async () => {
    const broken = temporaryDirectory('cert-broken');
    try {
      const first = await cert('--service', 'faas', '--namespace', 'webhooks', '--out', broken.dir);
      assert.equal(first.code, 0, first.stderr);
      writeFileSync(join(broken.dir, 'ca.key'), read('tls.key'));
      const second = await cert('--service', 'faas', '--namespace', 'webhooks', '--out', broken.dir);
      assert.equal(second.code, 2);
      assert.match(
        second.stderr,
        /ca\.crt: the key does not belong to the certificate \(--new-ca makes a new one\)/,
      );
    } finally {
      broken.remove();
    }
  });
});

describe('development certificate', () => {
  const certs = temporaryDirectory('dev-certs');
  after(() => certs.remove());

  it('is made once, reused while good, and reissued for a new host name', async () => {
    const first = await ensureDevCertificates(certs.dir, LOCAL_HOSTS);
    assert.deepEqual(first.issued, ['CA', 'serving certificate']);
    const second = await ensureDevCertificates(certs.dir, LOCAL_HOSTS);
    assert.deepEqual(second.issued, []);
    const third = await ensureDevCertificates(certs.dir, [...LOCAL_HOSTS, 'dev.internal']);
    assert.deepEqual(third.issued, ['serving certificate']);
    const serving = new X509Certificate(readFileSync(third.certFile, 'utf8'));
    assert.equal(
      serving.subjectAltName,
      'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:dev.internal',
    );
    assert.equal(statSync(certs.dir).mode & 0o077, 0);
  });

  it('stops the server at start with a clear message when TLS files are unusable', async () => {
    const run = await runEntry(STANDALONE, {
      PORT: '0',
      TLS_CERT_FILE: join(certs.dir, 'tls.crt'),
      TLS_KEY_FILE: join(certs.dir, 'ca.key'),
    });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /tls\.crt and .*ca\.key: the key does not belong to the certificate/);
    const half = await runEntry(STANDALONE, { PORT: '0', TLS_CERT_FILE: join(certs.dir, 'tls.crt') });
    assert.equal(half.code, 1);
    assert.match(half.stderr, /TLS_KEY_FILE: set TLS_CERT_FILE and TLS_KEY_FILE together/);
  });
});
