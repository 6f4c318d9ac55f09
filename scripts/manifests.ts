// Writes deploy/ (what `kubectl apply -k deploy/` applies) from the functions registry.
//
//   npm run manifests                      regenerate deploy/ after changing a function
//   npm run manifests -- --check           exit 1 when deploy/ differs from what would be generated
//   npm run manifests -- --out my-deploy --namespace webhooks --image registry/faas-admission@sha256:...
//   npm run manifests -- --out my-deploy --ca-bundle .certs/faas-admission-tls.faas-admission/ca-bundle.b64
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { functions } from '../functions/index.ts';
import { deployFiles } from './manifests/render.ts';
import { type DeploySettings, defaultSettings } from './manifests/settings.ts';

const usage = `usage: npm run manifests -- [--check] [--out DIR] [--namespace NS] [--image REF]
                              [--cluster-domain DOMAIN] [--dns-resolver HOST]
  --out            directory to write (default: deploy)
  --namespace      namespace of the functions and the TLS Service (default: ${defaultSettings.namespace})
  --image          image built from the Dockerfile, best by digest (default: ${defaultSettings.image})
  --cluster-domain the cluster's DNS domain (default: ${defaultSettings.clusterDomain})
  --dns-resolver   DNS server nginx resolves Knative hosts with (default: ${defaultSettings.dnsResolver})
  --ca-bundle      without cert-manager: file with the webhooks' caBundle (npm run cert writes ca-bundle.b64);
                   no cert-manager objects are written, the Secret comes from npm run cert
  --check          write nothing; exit 1 and name the files that differ`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function fail(message: string): never {
  process.stderr.write(`manifests: ${message}\n`);
  process.exit(2);
}

function settingsFrom(values: Record<string, string | boolean | undefined>): DeploySettings {
  const pick = (key: string, fallback: string, pattern: RegExp, what: string): string => {
    const value = values[key];
    if (value === undefined) return fallback;
    if (typeof value !== 'string' || !pattern.test(value)) fail(`--${key} "${value}" is not ${what}`);
    return value;
  };
  return {
    namespace: pick('namespace', defaultSettings.namespace, DNS_LABEL, 'a namespace name (a DNS label)'),
    clusterDomain: pick('cluster-domain', defaultSettings.clusterDomain, DNS_NAME, 'a DNS domain'),
    dnsResolver: pick('dns-resolver', defaultSettings.dnsResolver, /^[-a-z0-9.:[\]]+$/, 'a host or address'),
    image: pick('image', defaultSettings.image, /^[^\s@]+(@sha256:[0-9a-f]{64})?$/, 'an image reference'),
    ...(typeof values['ca-bundle'] === 'string' && { caBundle: readCaBundle(values['ca-bundle']) }),
  };
}

/** The base64 of a CA certificate's PEM, checked, so a wrong file fails here and not in the apiserver. */
function readCaBundle(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    fail(`--ca-bundle: cannot read ${file}: ${(error as Error).message}`);
  }
  const pem = Buffer.from(text, 'base64').toString('utf8');
  if (!/^[A-Za-z0-9+/]+=*$/.test(text) || !pem.includes('-----BEGIN CERTIFICATE-----'))
    fail(`--ca-bundle: ${file} is not a base64-encoded PEM certificate (npm run cert writes ca-bundle.b64)`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    fail(`--ca-bundle: ${file}: ${(error as Error).message}`);
  }
  if (!certificate.ca)
    fail(`--ca-bundle: ${file} holds a certificate that is not a CA (${certificate.subject})`);
  return text;
}

function main(): void {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      options: {
        out: { type: 'string', default: 'deploy' },
        namespace: { type: 'string' },
        image: { type: 'string' },
        'cluster-domain': { type: 'string' },
        'dns-resolver': { type: 'string' },
        'ca-bundle': { type: 'string' },
        check: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    });
  try {
    parsed = parse();
  } catch (error) {
    fail(`${(error as Error).message}\n${usage}`);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const out = values.out;
  const files = deployFiles([...functions.values()], settingsFrom(values));
  // Generated files may sit in folders (a kustomize Component has its own).
  const present = existsSync(out)
    ? readdirSync(out, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(out, join(entry.parentPath, entry.name)))
    : [];
  const extra = present.filter((name) => !files.has(name));

  if (values.check) {
    const stale = [...files].filter(([name, text]) => {
      const path = join(out, name);
      return !existsSync(path) || readFileSync(path, 'utf8') !== text;
    });
    for (const [name] of stale) process.stderr.write(`manifests: ${join(out, name)} is out of date\n`);
    for (const name of extra) process.stderr.write(`manifests: ${join(out, name)} is not generated\n`);
    if (stale.length > 0 || extra.length > 0) {
      process.stderr.write('manifests: run `npm run manifests` and commit the result\n');
      process.exit(1);
    }
    return;
  }
  mkdirSync(out, { recursive: true });
  for (const [name, text] of files) {
    mkdirSync(dirname(join(out, name)), { recursive: true });
    writeFileSync(join(out, name), text);
  }
  process.stdout.write(`manifests: wrote ${files.size} files to ${out.replace(/\/$/, '')}/\n`);
  for (const name of extra)
    process.stderr.write(`manifests: ${join(out, name)} is not generated: remove it?\n`);
}

main();
