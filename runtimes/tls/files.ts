// Writing and reading certificate files. Writes are atomic (a temporary file renamed into
// place), so a server watching the directory never reads half a file; keys are private.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CertificatePem } from './certificates.ts';

export function writeFileAtomic(path: string, content: string, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, content, { mode });
  renameSync(temporary, path);
}

/** Writes `<name>.crt` and `<name>.key` into `dir`. */
export function writeCertificatePair(dir: string, name: string, pair: CertificatePem): void {
  writeFileAtomic(join(dir, `${name}.key`), pair.privateKey, 0o600);
  writeFileAtomic(join(dir, `${name}.crt`), pair.certificate);
}

/** Reads `<name>.crt` and `<name>.key` from `dir`, or undefined when either is missing. */
export function readCertificatePair(dir: string, name: string): CertificatePem | undefined {
  const certificate = join(dir, `${name}.crt`);
  const privateKey = join(dir, `${name}.key`);
  if (!existsSync(certificate) || !existsSync(privateKey)) return undefined;
  return { certificate: readFileSync(certificate, 'utf8'), privateKey: readFileSync(privateKey, 'utf8') };
}
