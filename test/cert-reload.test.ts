// Certificates replaced under traffic: as a Kubernetes Secret volume does it (a `..data`
// symlink swapped atomically) and as a person does it (files overwritten one after the other).
// No request may fail, and the new certificate must be served afterwards.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CertificatePem,
  certificateFacts,
  issueCa,
  issueServingCertificate,
  serviceHosts,
} from '../runtimes/tls/certificates.ts';
import { LOCAL_HOSTS } from '../runtimes/tls/dev-certs.ts';
import { sharedFixture } from './support/reviews.ts';
import { call, STANDALONE, STANDALONE_URL, startEntry, temporaryDirectory } from './support/runtimes.ts';

const review = sharedFixture('knative-pod-netease-annotations.v1.json');
const body = JSON.stringify(review);

interface Traffic {
  ok: number;
  failures: string[];
  serials: Set<string>;
}

/**
 * Sends `total` reviews, `concurrency` at a time, each on a new TLS connection (so each sees
 * the certificate being served at that moment); calls `midway` once half of them are done.
 */
async function traffic(
  url: string,
  tls: { ca: string; servername?: string },
  total: number,
  midway: () => Promise<void>,
): Promise<Traffic> {
  const result: Traffic = { ok: 0, failures: [], serials: new Set() };
  let started = 0;
  let changing: Promise<void> | undefined;
  const worker = async () => {
    while (started < total) {
      started++;
      try {
        const reply = await call(`${url}/volume-extension?timeout=10s`, {
          method: 'POST',
          body,
          headers: { 'Content-Type': 'application/json' },
          ...tls,
        });
        if (reply.status === 200 && reply.json?.response?.uid === review.request.uid) result.ok++;
        else result.failures.push(`${reply.status} ${reply.text.slice(0, 200)}`);
        if (reply.certificate) result.serials.add(reply.certificate.serialNumber);
      } catch (error) {
        result.failures.push((error as Error).message);
      }
      if (!changing && result.ok + result.failures.length >= total / 2) changing = midway();
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  await changing;
  return result;
}

/** Calls until the served certificate has `serial` (bounded), returning what was served last. */
async function servedSerial(url: string, tls: { ca: string; servername?: string }, serial: string) {
  let seen = '';
  for (let attempt = 0; attempt < 50 && seen !== serial; attempt++) {
    if (attempt > 0) await sleep(100);
    seen = (await call(`${url}/healthz`, tls)).certificate?.serialNumber ?? '';
  }
  return seen;
}

describe('certificate reload', () => {
  const cleanups: (() => Promise<unknown> | undefined)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('serves the certificate of a swapped Kubernetes Secret volume, failing no request', async () => {
    const volume = temporaryDirectory('secret');
    cleanups.push(() => void volume.remove());
    const ca = await issueCa({ commonName: 'test CA', days: 30 });
    const hosts = serviceHosts('faas-admission', 'webhooks');
    // The kubelet's layout: files are symlinks through `..data` to a timestamped directory.
    let generation = 0;
    const project = (pair: CertificatePem) => {
      generation++;
      const data = join(volume.dir, `..2026_11_22_0${generation}`);
      mkdirSync(data);
      writeFileSync(join(data, 'tls.crt'), pair.certificate);
      writeFileSync(join(data, 'tls.key'), pair.privateKey);
      writeFileSync(join(data, 'ca.crt'), ca.certificate);
      symlinkSync(`..2026_11_22_0${generation}`, join(volume.dir, '..data_tmp'));
      renameSync(join(volume.dir, '..data_tmp'), join(volume.dir, '..data'));
    };
    const first = await issueServingCertificate({ ca, hosts, days: 30 });
    project(first);
    for (const name of ['tls.crt', 'tls.key', 'ca.crt']) {
      symlinkSync(join('..data', name), join(volume.dir, name));
    }

    const server = await startEntry(
      STANDALONE,
      {
        PORT: '0',
        TLS_CERT_FILE: join(volume.dir, 'tls.crt'),
        TLS_KEY_FILE: join(volume.dir, 'tls.key'),
      },
      STANDALONE_URL,
      'stdout',
    );
    cleanups.push(() => server.stop());
    assert.doesNotMatch(server.stdout(), /made now/);
    // The apiserver dials <service>.<namespace>.svc; trust only the CA.
    const tls = { ca: ca.certificate, servername: 'faas-admission.webhooks.svc' };
    const second = await issueServingCertificate({ ca, hosts, days: 30 });
    const result = await traffic(server.url, tls, 160, async () => {
      project(second);
      rmSync(join(volume.dir, '..2026_11_22_01'), { recursive: true });
    });
    assert.deepEqual(result.failures, []);
    assert.equal(result.ok, 160);
    const newSerial = certificateFacts(second.certificate).serialNumber;
    assert.equal(await servedSerial(server.url, tls, newSerial), newSerial);
    await server.waitFor(new RegExp(`certificate reloaded: serial ${newSerial}`));
    assert.ok(result.serials.has(certificateFacts(first.certificate).serialNumber));
  });

  it('serves certificate files overwritten in place, and ignores a half-written or mismatched pair', async () => {
    const certs = temporaryDirectory('overwrite');
    cleanups.push(() => void certs.remove());
    const server = await startEntry(
      STANDALONE,
      { PORT: '0', DEV_CERTS_DIR: certs.dir },
      STANDALONE_URL,
      'stdout',
    );
    cleanups.push(() => server.stop());
    const ca: CertificatePem = {
      certificate: readFileSync(join(certs.dir, 'ca.crt'), 'utf8'),
      privateKey: readFileSync(join(certs.dir, 'ca.key'), 'utf8'),
    };
    const tls = { ca: ca.certificate };
    const certFile = join(certs.dir, 'tls.crt');
    const keyFile = join(certs.dir, 'tls.key');
    const original = certificateFacts(readFileSync(certFile, 'utf8')).serialNumber;
    const errors = () => server.stderr().match(/cannot serve/g)?.length ?? 0;

    // Half a certificate: refused, the old one keeps serving.
    const next = await issueServingCertificate({ ca, hosts: LOCAL_HOSTS, days: 30 });
    writeFileSync(certFile, next.certificate.slice(0, 300));
    await server.waitFor(
      /cannot serve, still serving the previous certificate: .*not a PEM X\.509 certificate/,
    );
    assert.equal(await servedSerial(server.url, tls, original), original);
    // The whole certificate, but the old key: refused too.
    const before = errors();
    writeFileSync(certFile, next.certificate);
    await server.waitFor(new RegExp(`(cannot serve[\\s\\S]*){${before + 1}}`));
    assert.match(server.stderr(), /the key does not belong to the certificate/);
    assert.equal(await servedSerial(server.url, tls, original), original);
    // The key arrives: the pair is served.
    writeFileSync(keyFile, next.privateKey);
    const nextSerial = certificateFacts(next.certificate).serialNumber;
    assert.equal(await servedSerial(server.url, tls, nextSerial), nextSerial);

    // Again under traffic: certificate then key, overwritten in place.
    const third = await issueServingCertificate({ ca, hosts: LOCAL_HOSTS, days: 30 });
    const result = await traffic(server.url, tls, 120, async () => {
      writeFileSync(certFile, third.certificate);
      writeFileSync(keyFile, third.privateKey);
    });
    assert.deepEqual(result.failures, []);
    const thirdSerial = certificateFacts(third.certificate).serialNumber;
    assert.equal(await servedSerial(server.url, tls, thirdSerial), thirdSerial);
  });
});
