// Serves renewed certificates without a restart. cert-manager, a Kubernetes Secret volume
// (which swaps a `..data` symlink) or `npm run cert` replace the files; we watch their
// directories, wait for the writes to settle, check the new pair and swap the server's
// secure context. Connections already open keep the context they started with, so requests
// in flight are never failed; a pair that does not check out (half written, key of another
// certificate, expired) is ignored with an error and the current certificate keeps serving.
import { type FSWatcher, readFileSync, watch } from 'node:fs';
import type { Server } from 'node:https';
import { dirname } from 'node:path';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { ServerLog } from '../log.ts';
import type { CertificatePem } from './certificates.ts';
import { certificateFacts, servingPairProblem } from './inspect.ts';

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface CertificateReloader {
  /** The pair being served. */
  current(): CertificatePem;
  /** Reads the files now and swaps the certificate if they changed and check out. */
  check(): void;
  close(): void;
}

/** Reads the pair, or says why it cannot serve. */
export function readServingPair(files: CertificateFiles): CertificatePem {
  const pair = {
    certificate: readFileSync(files.certFile, 'utf8'),
    privateKey: readFileSync(files.keyFile, 'utf8'),
  };
  const problem = servingPairProblem(pair);
  if (problem) throw new Error(`${files.certFile} and ${files.keyFile}: ${problem}`);
  return pair;
}

export function describePair(pair: CertificatePem): string {
  const facts = certificateFacts(pair.certificate);
  return `serial ${facts.serialNumber}, for ${facts.hosts.join(', ')}, valid until ${facts.validTo.toISOString()}`;
}

export function reloadOnChange(
  server: Server,
  files: CertificateFiles,
  initial: CertificatePem,
  tlsOptions: SecureContextOptions,
  log: ServerLog,
  settleMs = 200,
): CertificateReloader {
  let current = initial;
  let timer: NodeJS.Timeout | undefined;

  const check = () => {
    let next: CertificatePem;
    try {
      next = readServingPair(files);
      // Anything else that would stop a handshake (an unusable key type, say).
      createSecureContext({ ...tlsOptions, cert: next.certificate, key: next.privateKey });
    } catch (error) {
      log.error(
        `certificate files changed but cannot serve, still serving the previous certificate: ${(error as Error).message}`,
      );
      return;
    }
    if (next.certificate === current.certificate && next.privateKey === current.privateKey) return;
    server.setSecureContext({ ...tlsOptions, cert: next.certificate, key: next.privateKey });
    current = next;
    log.info(`certificate reloaded: ${describePair(next)}`);
  };

  // A writer replaces the certificate and the key one after the other: wait until the
  // directory has been quiet for `settleMs` before reading them.
  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(check, settleMs);
  };
  const watchers: FSWatcher[] = [...new Set([dirname(files.certFile), dirname(files.keyFile)])].map((dir) =>
    watch(dir, { persistent: false }, schedule).on('error', (error) =>
      log.error(`watching ${dir} for new certificates: ${error.message}`),
    ),
  );

  return {
    current: () => current,
    check,
    close: () => {
      clearTimeout(timer);
      for (const watcher of watchers) watcher.close();
    },
  };
}
