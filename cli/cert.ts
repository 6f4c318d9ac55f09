// Makes a CA and a serving certificate for the webhook's Service, for clusters without
// cert-manager:
//
//   faas-admission cert --service <name> --namespace <ns> [--out dir] [--days N] [--new-ca]
//
// Writes ca.crt, ca.key, tls.crt, tls.key, secret.yaml (a kubernetes.io/tls Secret with
// ca.crt) and ca-bundle.b64 (the webhooks' clientConfig.caBundle). Run again to renew: the
// CA already in the directory is reused, so the caBundle stays the same.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import {
  certificateFacts,
  issueCa,
  issueServingCertificate,
  serviceHosts,
  servingPairProblem,
} from '../runtimes/tls/certificates.ts';
import { readCertificatePair, writeCertificatePair, writeFileAtomic } from '../runtimes/tls/files.ts';
import { caBundle, tlsSecret } from '../runtimes/tls/secret-manifest.ts';
import { dns1123LabelProblem } from '../shared/k8s/names.ts';
import { fail, runAsScript } from './errors.ts';

const usage = `usage: faas-admission cert --service <name> --namespace <namespace> [options]
  --service <name>       the webhook's Service (the certificate is for <name>.<namespace>.svc)
  --namespace <ns>       its namespace
  --out <dir>            where to write (default .certs/<name>.<namespace>)
  --days <n>             validity of the serving certificate (default 365)
  --ca-days <n>          validity of a new CA (default 3650)
  --secret-name <name>   name of the Secret (default <name>-tls)
  --new-ca               make a new CA even if <dir> has one (the caBundle changes)`;

function days(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed >= 1 && parsed <= 36500)) fail(`--${option}: "${value}" is not a number of days (1 to 36500)`);
  return parsed;
}

function name(option: string, value: string | undefined): string {
  if (!value) fail(`--${option} is required\n${usage}`);
  const problem = dns1123LabelProblem(value);
  if (problem) fail(`--${option}: "${value}" ${problem}`);
  return value;
}

export async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        service: { type: 'string' },
        namespace: { type: 'string' },
        out: { type: 'string' },
        days: { type: 'string' },
        'ca-days': { type: 'string' },
        'secret-name': { type: 'string' },
        'new-ca': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const service = name('service', values.service as string | undefined);
  if (/^[0-9]/.test(service))
    fail(`--service: "${service}" must start with a letter (Service names are RFC 1035 labels)`);
  const namespace = name('namespace', values.namespace as string | undefined);
  const secretName = name('secret-name', (values['secret-name'] as string | undefined) ?? `${service}-tls`);
  const servingDays = days('days', values.days as string | undefined, 365);
  const caDays = days('ca-days', values['ca-days'] as string | undefined, 3650);
  const out = resolve((values.out as string | undefined) ?? join('.certs', `${service}.${namespace}`));

  let ca = values['new-ca'] ? undefined : readCertificatePair(out, 'ca');
  const caProblem = ca && servingPairProblem(ca);
  if (caProblem) fail(`${join(out, 'ca.crt')}: ${caProblem} (--new-ca makes a new one)`);
  const reused = ca !== undefined;
  if (!ca) {
    ca = await issueCa({ commonName: `faas-admission CA for ${service}.${namespace}`, days: caDays });
    writeCertificatePair(out, 'ca', ca);
  }
  const serving = await issueServingCertificate({
    ca,
    hosts: serviceHosts(service, namespace),
    days: servingDays,
  });
  writeCertificatePair(out, 'tls', serving);
  const secret = tlsSecret({ name: secretName, namespace, ca: ca.certificate, serving });
  writeFileAtomic(join(out, 'secret.yaml'), stringify(secret), 0o600);
  const bundle = caBundle(ca.certificate);
  writeFileAtomic(join(out, 'ca-bundle.b64'), `${bundle}\n`);

  const facts = certificateFacts(serving.certificate);
  process.stdout.write(
    [
      `${reused ? 'reused the CA' : 'made a new CA'} in ${out}${reused ? ' (the caBundle is unchanged)' : ''}`,
      `serving certificate for ${facts.hosts.join(', ')}`,
      `  serial ${facts.serialNumber}, valid until ${facts.validTo.toISOString()}`,
      `wrote ${['ca.crt', 'ca.key', 'tls.crt', 'tls.key', 'secret.yaml', 'ca-bundle.b64'].join(', ')}`,
      `next: kubectl apply -f ${join(out, 'secret.yaml')}`,
      `      and set each webhook's clientConfig.caBundle to the contents of ${join(out, 'ca-bundle.b64')}`,
      '',
    ].join('\n'),
  );
  return 0;
}

if (import.meta.main) await runAsScript('cert', main);
