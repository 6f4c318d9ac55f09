// Writes deploy/ (what `kubectl apply -k deploy/` applies) from the functions registry.
//
//   npm run manifests                      regenerate deploy/ after changing a function
//   npm run manifests -- --check           exit 1 when deploy/ differs from what would be generated
//   npm run manifests -- --out my-deploy --namespace webhooks --image registry/faas-admission@sha256:...
//   npm run manifests -- --out my-deploy --ca-bundle .certs/faas-admission-tls.faas-admission/ca-bundle.b64
//   npm run manifests -- --out my-deploy --ca-bundle ca-bundle.b64 --endpoint https://hooks.example.com --kubernetes-version 1.20
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { fail, runAsScript } from '../cli/errors.ts';
import { functions } from '../functions/index.ts';
import { deployFiles } from './manifests/render.ts';
import {
  type DeploySettings,
  defaultSettings,
  type KubernetesVersion,
  OLDEST_KUBERNETES,
  parseKubernetesVersion,
} from './manifests/settings.ts';

const usage = `usage: npm run manifests -- [--check] [--out DIR] [--namespace NS] [--image REF]
                              [--cluster-domain DOMAIN] [--dns-resolver HOST] [--ca-bundle FILE]
                              [--endpoint [FUNCTION=]URL]... [--kubernetes-version MAJOR.MINOR]
  --out            directory to write (default: deploy)
  --namespace      namespace of the functions and the TLS Service (default: ${defaultSettings.namespace})
  --image          image built from the Dockerfile, best by digest (default: ${defaultSettings.image})
  --cluster-domain the cluster's DNS domain (default: ${defaultSettings.clusterDomain})
  --dns-resolver   DNS server nginx resolves Knative hosts with (default: ${defaultSettings.dnsResolver})
  --ca-bundle      without cert-manager: file with the webhooks' caBundle (npm run cert writes ca-bundle.b64);
                   no cert-manager objects are written, the Secret comes from npm run cert
  --endpoint       the webhooks call URL + /<function> (clientConfig.url) instead of the in-cluster Service:
                   an ingress, an OpenFaaS gateway (https://gateway.example.com/function), a server
                   outside the cluster; FUNCTION=URL for one function; needs --ca-bundle
  --kubernetes-version
                   the cluster's version (default: current): fields it predates are left out
                   (matchConditions before 1.28), see docs/kubernetes-versions.md
  --check          write nothing; exit 1 and name the files that differ`;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function settingsFrom(
  values: Record<string, string | boolean | (string | boolean)[] | undefined>,
): DeploySettings {
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
    ...endpointsFrom(values.endpoint, values['ca-bundle'] !== undefined),
    ...(typeof values['kubernetes-version'] === 'string' && {
      kubernetesVersion: kubernetesVersionFrom(values['kubernetes-version']),
    }),
  };
}

/** An endpoint URL as the apiserver accepts it in clientConfig.url: https, a host, no query or user. */
function checkedUrl(text: string, what: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    fail(`${what}: "${text}" is not a URL`);
  }
  if (url.protocol !== 'https:')
    fail(`${what}: "${text}" must be https (the apiserver calls webhooks over TLS only)`);
  if (url.username || url.password) fail(`${what}: "${text}" must not carry a user or password`);
  if (url.search || url.hash || text.includes('?') || text.includes('#'))
    fail(`${what}: "${text}" must not have a query or fragment (the apiserver adds ?timeout=)`);
  return text.replace(/\/+$/, '');
}

function endpointsFrom(
  given: string | boolean | (string | boolean)[] | undefined,
  hasCaBundle: boolean,
): Pick<DeploySettings, 'endpoint' | 'endpointByFunction'> {
  const list = (Array.isArray(given) ? given : given === undefined ? [] : [given]).map(String);
  if (list.length === 0) return {};
  if (!hasCaBundle)
    fail('--endpoint needs --ca-bundle: the CA that signed the certificate the endpoint serves');
  let endpoint: string | undefined;
  const endpointByFunction: Record<string, string> = {};
  for (const item of list) {
    const named = /^([a-z0-9-]+)=(.*)$/.exec(item);
    if (!named) {
      if (endpoint !== undefined) fail(`--endpoint given twice without a function name: "${item}"`);
      endpoint = checkedUrl(item, '--endpoint');
      continue;
    }
    const [, name = '', url = ''] = named;
    if (!functions.has(name))
      fail(`--endpoint ${item}: no function "${name}" (functions: ${[...functions.keys()].join(', ')})`);
    if (endpointByFunction[name] !== undefined) fail(`--endpoint: "${name}" given twice`);
    endpointByFunction[name] = checkedUrl(url, `--endpoint ${name}`);
  }
  const missing = [...functions.keys()].filter((name) => endpoint === undefined && !endpointByFunction[name]);
  if (missing.length > 0)
    fail(`--endpoint: no URL for ${missing.join(', ')} (give one without a function name for the rest)`);
  return { ...(endpoint !== undefined && { endpoint }), endpointByFunction };
}

function kubernetesVersionFrom(text: string): KubernetesVersion {
  const version = parseKubernetesVersion(text);
  if (!version) fail(`--kubernetes-version "${text}" is not MAJOR.MINOR (e.g. 1.20)`);
  const { major, minor } = OLDEST_KUBERNETES;
  if (version.major < major || (version.major === major && version.minor < minor))
    fail(
      `--kubernetes-version ${text}: admissionregistration.k8s.io/v1 needs Kubernetes ${major}.${minor} or later`,
    );
  return version;
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

export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  const parse = () =>
    parseArgs({
      args: argv,
      options: {
        out: { type: 'string', default: 'deploy' },
        namespace: { type: 'string' },
        image: { type: 'string' },
        'cluster-domain': { type: 'string' },
        'dns-resolver': { type: 'string' },
        'ca-bundle': { type: 'string' },
        endpoint: { type: 'string', multiple: true },
        'kubernetes-version': { type: 'string' },
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
    return 0;
  }
  const out = values.out;
  const files = deployFiles([...functions.values()], settingsFrom(values));
  const present = existsSync(out) ? readdirSync(out) : [];
  const names = [...files.keys()];
  const extra = present.filter((name) => !names.some((file) => file === name || file.startsWith(`${name}/`)));

  if (values.check) {
    const stale = [...files].filter(([name, text]) => {
      const path = join(out, name);
      return !existsSync(path) || readFileSync(path, 'utf8') !== text;
    });
    for (const [name] of stale) process.stderr.write(`manifests: ${join(out, name)} is out of date\n`);
    for (const name of extra) process.stderr.write(`manifests: ${join(out, name)} is not generated\n`);
    if (stale.length > 0 || extra.length > 0) {
      process.stderr.write('manifests: run `npm run manifests` and commit the result\n');
      return 1;
    }
    return 0;
  }
  mkdirSync(out, { recursive: true });
  for (const [name, text] of files) {
    mkdirSync(dirname(join(out, name)), { recursive: true });
    writeFileSync(join(out, name), text);
  }
  process.stdout.write(`manifests: wrote ${files.size} files to ${out.replace(/\/$/, '')}/\n`);
  for (const name of extra)
    process.stderr.write(`manifests: ${join(out, name)} is not generated: remove it?\n`);
  return 0;
}

if (import.meta.main) await runAsScript('manifests', main);
