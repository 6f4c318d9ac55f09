// Keeps the webhook's certificates current on a cluster without cert-manager: the CA Secret,
// the serving Secret for <service>.<namespace>.svc and the caBundle of every webhook of the
// project's configurations. A CronJob runs it (deploy/cert-upkeep/); by hand, `--dry-run` says
// what it would change. Each change is logged; a second run changes nothing.
//
//   npm run cert-upkeep -- [--dry-run] [--kubeconfig FILE] [options]

import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { kubeApi } from '../runtimes/tls/kube-api.ts';
import { runUpkeep } from '../runtimes/tls/upkeep.ts';
import type { ConfigurationRef, UpkeepPolicy } from '../runtimes/tls/upkeep-plan.ts';
import { dns1123LabelProblem } from '../shared/k8s/names.ts';

const DEFAULTS = {
  namespace: 'faas-admission',
  service: 'faas-admission-tls',
  'ca-secret': 'faas-admission-ca',
  'ca-lifetime': '1825d',
  'serving-lifetime': '90d',
  'renew-fraction': '0.333',
  settle: '10m',
  configuration: 'faas-admission',
};

const usage = `usage: npm run cert-upkeep -- [options]
  --dry-run                 say what would change, change nothing
  --kubeconfig <file>       credentials (default: $KUBECONFIG, ~/.kube/config, or the pod's ServiceAccount)
  --namespace <ns>          namespace of the Service and the Secrets (default ${DEFAULTS.namespace})
  --service <name>          the webhook's Service: the certificate is for <name>.<ns>.svc (default ${DEFAULTS.service})
  --secret <name>           the serving Secret, kubernetes.io/tls (default: the Service's name)
  --extra-host <name|ip>    also put this name or address in the serving certificate (a webhook
                            registered by clientConfig.url; repeatable)
  --ca-secret <name>        the CA Secret (default ${DEFAULTS['ca-secret']})
  --mutating <name>         a MutatingWebhookConfiguration whose caBundles are kept (repeatable; default ${DEFAULTS.configuration})
  --validating <name>       a ValidatingWebhookConfiguration likewise (repeatable; default ${DEFAULTS.configuration})
  --ca-lifetime <d>         lifetime of a new CA (default ${DEFAULTS['ca-lifetime']}; env CERT_UPKEEP_CA_LIFETIME)
  --serving-lifetime <d>    lifetime of a serving certificate (default ${DEFAULTS['serving-lifetime']}; env CERT_UPKEEP_SERVING_LIFETIME)
  --renew-fraction <f>      renew (and rotate the CA) when less than this part of the life is left
                            (default ${DEFAULTS['renew-fraction']}; env CERT_UPKEEP_RENEW_FRACTION)
  --settle <d>              time a stored change is given to reach the apiserver and the pods before the
                            next step of a CA rotation (default ${DEFAULTS.settle}; env CERT_UPKEEP_SETTLE)
Durations: a number and s, m, h or d (90d, 720h, 45s). Exit 0: done or nothing to do; 1: a bad state
was found and left alone, or the cluster refused a change; 2: bad options.`;

class UsageError extends Error {}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function duration(option: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value);
  const ms = match ? Number(match[1]) * (UNITS[match[2] as string] as number) : Number.NaN;
  if (!(ms >= 1000 && ms <= 100 * 365 * 86_400_000))
    throw new UsageError(
      `--${option}: "${value}" is not a duration (a number and s, m, h or d; 1s to 100 years)`,
    );
  return ms;
}

function fraction(option: string, value: string): number {
  const parsed = /^0?\.\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!(parsed > 0 && parsed < 1))
    throw new UsageError(`--${option}: "${value}" is not a fraction between 0 and 1`);
  return parsed;
}

function label(option: string, value: string): string {
  const problem = dns1123LabelProblem(value);
  if (problem) throw new UsageError(`--${option}: "${value}" ${problem}`);
  return value;
}

/** Secret and webhook configuration names are DNS subdomains (RFC 1123). */
function subdomain(option: string, value: string): string {
  if (value.length > 253 || !value.split('.').every((part) => dns1123LabelProblem(part) === undefined))
    throw new UsageError(
      `--${option}: "${value}" is not a DNS subdomain name (lowercase letters, digits, '-' and '.')`,
    );
  return value;
}

function policyFrom(values: Record<string, string | boolean | string[] | undefined>, env: NodeJS.ProcessEnv) {
  const text = (option: keyof typeof DEFAULTS, envName?: string): string =>
    (values[option] as string | undefined) ?? (envName ? env[envName] : undefined) ?? DEFAULTS[option];
  const service = label('service', text('service'));
  const refs = (option: 'mutating' | 'validating', kind: ConfigurationRef['kind']): ConfigurationRef[] =>
    ((values[option] as string[] | undefined) ?? [DEFAULTS.configuration]).map((name) => ({
      kind,
      name: subdomain(option, name),
    }));
  const policy: UpkeepPolicy = {
    namespace: label('namespace', text('namespace')),
    service,
    caSecret: subdomain('ca-secret', text('ca-secret')),
    servingSecret: subdomain('secret', (values.secret as string | undefined) ?? service),
    extraHosts: ((values['extra-host'] as string[] | undefined) ?? []).map((host) =>
      isIP(host) ? host : subdomain('extra-host', host),
    ),
    caLifetimeMs: duration('ca-lifetime', text('ca-lifetime', 'CERT_UPKEEP_CA_LIFETIME')),
    servingLifetimeMs: duration('serving-lifetime', text('serving-lifetime', 'CERT_UPKEEP_SERVING_LIFETIME')),
    renewFraction: fraction('renew-fraction', text('renew-fraction', 'CERT_UPKEEP_RENEW_FRACTION')),
    settleMs: duration('settle', text('settle', 'CERT_UPKEEP_SETTLE')),
    configurations: [
      ...refs('mutating', 'MutatingWebhookConfiguration'),
      ...refs('validating', 'ValidatingWebhookConfiguration'),
    ],
  };
  if (policy.caSecret === policy.servingSecret)
    throw new UsageError('--ca-secret and --secret name the same Secret: the CA key would be served');
  if (policy.servingLifetimeMs > policy.caLifetimeMs)
    throw new UsageError('--serving-lifetime is longer than --ca-lifetime: the CA would expire first');
  return policy;
}

export async function main(argv: string[]): Promise<number> {
  const log = (level: 'info' | 'error', message: string) =>
    (level === 'error' ? process.stderr : process.stdout).write(`cert-upkeep: ${message}\n`);
  let values: Record<string, string | boolean | string[] | undefined>;
  let policy: UpkeepPolicy;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'dry-run': { type: 'boolean' },
        kubeconfig: { type: 'string' },
        namespace: { type: 'string' },
        service: { type: 'string' },
        secret: { type: 'string' },
        'ca-secret': { type: 'string' },
        'extra-host': { type: 'string', multiple: true },
        mutating: { type: 'string', multiple: true },
        validating: { type: 'string', multiple: true },
        'ca-lifetime': { type: 'string' },
        'serving-lifetime': { type: 'string' },
        'renew-fraction': { type: 'string' },
        settle: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    policy = policyFrom(values, process.env);
  } catch (error) {
    process.stderr.write(`cert-upkeep: ${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  const config = new KubeConfig();
  try {
    if (typeof values.kubeconfig === 'string') config.loadFromFile(values.kubeconfig);
    else config.loadFromDefault();
  } catch (error) {
    log('error', `cannot load the credentials: ${(error as Error).message}`);
    return 2;
  }
  const dryRun = values['dry-run'] === true;
  if (dryRun) log('info', 'dry run: nothing is written');
  const result = await runUpkeep(kubeApi(config), policy, { dryRun, log });
  return result.exitCode;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
