// What a certificate says, and whether a certificate and key can serve, with Node's own crypto
// only: the servers check and reload given certificate files without loading @peculiar/x509.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { CertificatePem } from './pem.ts';

/** What a certificate file says, for logs and checks. */
export interface CertificateFacts {
  serialNumber: string;
  subject: string;
  hosts: string[];
  validTo: Date;
  fingerprint256: string;
}

export function certificateFacts(pem: string): CertificateFacts {
  const certificate = new X509Certificate(pem);
  const hosts = (certificate.subjectAltName ?? '')
    .split(', ')
    .filter((entry) => entry !== '')
    .map((entry) => entry.replace(/^(DNS|IP Address):/, ''));
  return {
    serialNumber: certificate.serialNumber,
    subject: certificate.subject,
    hosts,
    validTo: new Date(certificate.validTo),
    fingerprint256: certificate.fingerprint256,
  };
}

/**
 * Why this certificate and key cannot serve (not PEM, key of another certificate, expired,
 * not signed by `caPem` when given), or undefined when they can.
 */
export function servingPairProblem(pair: CertificatePem, caPem?: string): string | undefined {
  const problem = pairProblem(pair);
  if (problem) return problem;
  const certificate = new X509Certificate(pair.certificate);
  if (new Date(certificate.validTo).getTime() <= Date.now())
    return `the certificate expired on ${certificate.validTo}`;
  if (caPem !== undefined && !signedBy(pair.certificate, caPem))
    return 'the certificate is not signed by the CA';
  return undefined;
}

/** Whether `pem` was issued and signed by the CA `caPem`. */
export function signedBy(pem: string, caPem: string): boolean {
  const certificate = new X509Certificate(pem);
  const ca = new X509Certificate(caPem);
  return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
}

/** Why this certificate and key are not a pair (not PEM, key of another certificate), whatever their dates. */
export function pairProblem(pair: CertificatePem): string | undefined {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pair.certificate);
  } catch (error) {
    return `the certificate is not a PEM X.509 certificate (${(error as Error).message})`;
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pair.privateKey);
  } catch (error) {
    return `the key is not a PEM private key (${(error as Error).message})`;
  }
  if (!certificate.checkPrivateKey(key)) return 'the key does not belong to the certificate';
  return undefined;
}
