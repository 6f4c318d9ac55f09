// A CA and serving certificates for the webhook, made in-process with @peculiar/x509 on
// Node's WebCrypto: `npm run cert` uses it for a cluster, the standalone server for its
// development certificate. Keys are ECDSA P-256 (what Go's TLS, and so the apiserver, and
// every current client handle); a reused CA may also be RSA.
import 'reflect-metadata'; // @peculiar/x509 builds on tsyringe, which needs the Reflect API
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import type { CertificatePem } from './pem.ts';

x509.cryptoProvider.set(webcrypto);

// Checking a certificate needs only Node's crypto: kept apart, so that serving with given
// certificate files never loads @peculiar/x509.
export { type CertificateFacts, certificateFacts, pairProblem, servingPairProblem } from './inspect.ts';
export type { CertificatePem } from './pem.ts';

const subtle = webcrypto.subtle;

const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const DAY = 24 * 60 * 60 * 1000;
// Certificates start a little in the past, so a client whose clock is behind accepts them:
// 5 minutes, or a tenth of a short lifetime (so that the part of its life left, which the
// upkeep renews by, stays close to what was asked for).
const CLOCK_SKEW = 5 * 60 * 1000;
const backdate = (lifetimeMs: number) => Math.min(CLOCK_SKEW, lifetimeMs / 10);

export interface CaRequest {
  commonName: string;
  /** Validity in days; fractions are allowed (short lifetimes for tests). */
  days: number;
}

export interface ServingRequest {
  ca: CertificatePem;
  /** DNS names and IP addresses the certificate is valid for; the first is its common name. */
  hosts: readonly string[];
  days: number;
}

/** The names the apiserver may use for `<service>.<namespace>` (it dials `<svc>.<ns>.svc`). */
export function serviceHosts(service: string, namespace: string): string[] {
  return [
    `${service}.${namespace}.svc`,
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}

export async function issueCa({ commonName, days }: CaRequest): Promise<CertificatePem> {
  const keys = await generateKeys();
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    notBefore: new Date(now - backdate(days * DAY)),
    notAfter: new Date(now + days * DAY),
    keys,
    signingAlgorithm: EC_P256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate: pemFile(certificate.toString('pem')),
    privateKey: await exportPrivateKey(keys.privateKey),
  };
}

export async function issueServingCertificate({ ca, hosts, days }: ServingRequest): Promise<CertificatePem> {
  if (hosts.length === 0) throw new Error('a serving certificate needs at least one host name');
  const caCertificate = new x509.X509Certificate(ca.certificate);
  const { key: caKey, algorithm } = await importSigningKey(ca.privateKey);
  const keys = await generateKeys();
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [hosts[0] as string] }],
    issuer: caCertificate.subjectName,
    notBefore: new Date(now - backdate(days * DAY)),
    notAfter: new Date(Math.min(now + days * DAY, caCertificate.notAfter.getTime())),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((host) => (isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificate: pemFile(certificate.toString('pem')),
    privateKey: await exportPrivateKey(keys.privateKey),
  };
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

async function exportPrivateKey(key: webcrypto.CryptoKey): Promise<string> {
  return pemFile(x509.PemConverter.encode(await subtle.exportKey('pkcs8', key), 'PRIVATE KEY'));
}

/**
 * PEM as a file holds it, ending in a newline: @peculiar/x509 leaves it off, and PEMs joined
 * into a bundle (a caBundle, ca.crt of two CAs during a rotation) then run into each other.
 */
function pemFile(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** Imports a CA key (PKCS#1, SEC1 or PKCS#8 PEM) for signing, with the algorithm it signs with. */
async function importSigningKey(
  pem: string,
): Promise<{ key: webcrypto.CryptoKey; algorithm: webcrypto.RsaHashedImportParams | webcrypto.EcdsaParams }> {
  const keyObject = createPrivateKey(pem);
  const der = keyObject.export({ type: 'pkcs8', format: 'der' });
  if (keyObject.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
    return { key: await subtle.importKey('pkcs8', der, algorithm, false, ['sign']), algorithm };
  }
  if (keyObject.asymmetricKeyType === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    const curves: Record<string, { namedCurve: string; hash: string }> = {
      prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
      secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
    };
    const known = curve === undefined ? undefined : curves[curve];
    if (!known) throw new Error(`the CA key uses curve ${curve}: P-256 or P-384 expected`);
    const key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: known.namedCurve }, false, [
      'sign',
    ]);
    return { key, algorithm: { name: 'ECDSA', hash: known.hash } };
  }
  throw new Error(`the CA key is ${keyObject.asymmetricKeyType}: an EC or RSA key expected`);
}

/** 16 random bytes, positive and without a leading zero byte (RFC 5280 4.1.2.2). */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return bytes.toString('hex');
}
