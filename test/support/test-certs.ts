// A throwaway CA and serving certificate for TLS tests, made with the openssl command (an
// implementation independent of the project's code).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';

export interface TestCertificates {
  /** PEM of the CA: the only root a test client trusts. */
  readonly caPem: string;
  readonly certificateFile: string;
  readonly keyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Makes `<name>-ca.crt` and `<name>.crt` / `<name>.key` for `dnsNames` (an IP address among them
 * becomes an IP SAN) in `dir`; valid for a day.
 */
export function makeTestCertificates(
  dir: string,
  dnsNames: readonly string[],
  name = 'tls',
): TestCertificates {
  const [commonName] = dnsNames;
  if (!commonName) throw new Error('makeTestCertificates: at least one DNS name');
  const ca = `${name}-ca`;
  openssl(
    ['req', '-x509', ...EC_KEY, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1']
      .concat(['-subj', `/CN=${name} test CA`, '-addext', 'basicConstraints=critical,CA:TRUE'])
      .concat(['-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
    dir,
  );
  openssl(
    ['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${commonName}`],
    dir,
  );
  writeFileSync(
    join(dir, `${name}.ext`),
    [
      `subjectAltName=${dnsNames.map((d) => `${isIP(d) ? 'IP' : 'DNS'}:${d}`).join(',')}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
    ].join('\n'),
  );
  openssl(
    ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-set_serial']
      .concat([`0x${randomBytes(8).toString('hex')}`, '-days', '1', '-out', `${name}.crt`])
      .concat(['-extfile', `${name}.ext`]),
    dir,
  );
  return {
    caPem: readFileSync(join(dir, `${ca}.crt`), 'utf8'),
    certificateFile: join(dir, `${name}.crt`),
    keyFile: join(dir, `${name}.key`),
  };
}
