// A throwaway certificate for 127.0.0.1, made with openssl: every HTTPS target and the floor
// serve the same key type (RSA 2048, cert-manager's default), so TLS costs the same for all.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BenchTls {
  readonly certFile: string;
  readonly keyFile: string;
  /** The certificate, to trust it when polling the servers. */
  readonly cert: string;
}

export function makeCertificate(dir: string): BenchTls {
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8') };
}
