// The standalone server's development certificate: a local CA and a serving certificate for
// localhost, made on first run under .dev-certs/ and reused after, until they near expiry or
// the host names change. Trust ca.crt in a client (curl --cacert) and nothing else changes.
import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type CertificatePem, issueCa, issueServingCertificate, servingPairProblem } from './certificates.ts';
import { readCertificatePair, writeCertificatePair } from './files.ts';

const DAY = 24 * 60 * 60 * 1000;
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
/** Renew before this much validity is left, so a running server is never near expiry. */
const RENEW_BEFORE_DAYS = 30;

export interface DevCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** What this call made: nothing when the files were already good. */
  issued: ('CA' | 'serving certificate')[];
}

export const LOCAL_HOSTS = ['localhost', '127.0.0.1', '::1'];

export async function ensureDevCertificates(dir: string, hosts: readonly string[]): Promise<DevCertificates> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const issued: DevCertificates['issued'] = [];
  let ca = readCertificatePair(dir, 'ca');
  if (!ca || !stillGood(ca)) {
    ca = await issueCa({ commonName: 'faas-admission development CA', days: CA_DAYS });
    writeCertificatePair(dir, 'ca', ca);
    issued.push('CA');
  }
  const serving = readCertificatePair(dir, 'tls');
  if (!serving || issued.length > 0 || !stillGood(serving, ca.certificate) || !covers(serving, hosts)) {
    writeCertificatePair(dir, 'tls', await issueServingCertificate({ ca, hosts, days: SERVING_DAYS }));
    issued.push('serving certificate');
  }
  return {
    caFile: join(dir, 'ca.crt'),
    certFile: join(dir, 'tls.crt'),
    keyFile: join(dir, 'tls.key'),
    issued,
  };
}

function stillGood(pair: CertificatePem, caPem?: string): boolean {
  if (servingPairProblem(pair, caPem)) return false;
  const validTo = new Date(new X509Certificate(pair.certificate).validTo).getTime();
  return validTo - Date.now() > RENEW_BEFORE_DAYS * DAY;
}

function covers(pair: CertificatePem, hosts: readonly string[]): boolean {
  const certificate = new X509Certificate(pair.certificate);
  return hosts.every((host) =>
    isIP(host) ? certificate.checkIP(host) !== undefined : certificate.checkHost(host) !== undefined,
  );
}
