// What one run of the certificate upkeep changes, decided from what is stored: the CA Secret,
// the serving Secret and the webhook configurations. Nothing here talks to the apiserver; the
// plan is a list of writes in the order that keeps every step safe to interrupt.
//
// A CA rotation takes three runs, so that the apiserver never meets a certificate it does not
// trust:
//   1. the new CA is made, kept in the CA Secret as next.crt/next.key, and added to every
//      caBundle (bundle: old + new);
//   2. on a later run, once every stored caBundle holds both and `settle` has passed, the new CA
//      becomes the active one (old kept as previous.crt) and the serving certificate is signed
//      by it;
//   3. on a later run, `settle` after that (time for the kubelet to update the mounted Secret
//      and the servers to reload it), the old CA leaves the bundles.
import { X509Certificate } from 'node:crypto';
import { type CertificatePem, issueCa, issueServingCertificate, serviceHosts } from './certificates.ts';
import { pairProblem, signedBy } from './inspect.ts';

export const OWNER_LABEL = { key: 'app.kubernetes.io/name', value: 'faas-admission' } as const;
const ANNOTATION = 'cert-upkeep.knative.netease.dev';
export const ROTATION_STARTED = `${ANNOTATION}/rotation-started-at`;
export const SWITCHED = `${ANNOTATION}/switched-at`;
const CERT_MANAGER_SECRET = 'cert-manager.io/certificate-name';
const CERT_MANAGER_INJECT = 'cert-manager.io/inject-ca-from';
const DAY = 24 * 60 * 60 * 1000;

export interface UpkeepPolicy {
  /** The webhook's Service: the serving certificate is for <service>.<namespace>.svc. */
  service: string;
  namespace: string;
  caSecret: string;
  servingSecret: string;
  /** More names or IP addresses for the serving certificate (webhooks registered by `url`). */
  extraHosts: readonly string[];
  caLifetimeMs: number;
  servingLifetimeMs: number;
  /** Renew (or rotate) when less than this part of a certificate's life is left. */
  renewFraction: number;
  /** How long a stored change is given to reach the apiserver and the serving pods. */
  settleMs: number;
  configurations: readonly ConfigurationRef[];
}

export interface ConfigurationRef {
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration';
  name: string;
}

export interface StoredSecret {
  resourceVersion: string;
  type: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  /** Decoded from base64. */
  data: Record<string, string>;
}

export interface StoredConfiguration {
  ref: ConfigurationRef;
  resourceVersion: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  webhooks: { name: string; caBundle?: string }[];
}

export interface State {
  caSecret?: StoredSecret;
  servingSecret?: StoredSecret;
  /** Each configuration of the policy, undefined when it does not exist. */
  configurations: Map<ConfigurationRef, StoredConfiguration | undefined>;
}

export type Write =
  | { kind: 'secret'; name: string; create: boolean; secret: SecretContent; why: string }
  | { kind: 'caBundle'; ref: ConfigurationRef; operations: unknown[]; why: string };

export interface SecretContent {
  type: string;
  resourceVersion?: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  data: Record<string, string>;
}

export interface Plan {
  writes: Write[];
  /** Bad states found: each names the object and the problem; that object is left alone. */
  problems: string[];
  /** What was checked and left as it is, for the log. */
  notes: string[];
}

/** A bad state that stops the whole run before any write. */
export class UpkeepRefusal extends Error {}

interface CaSet {
  active: CertificatePem;
  next?: CertificatePem;
  previous?: string;
  rotationStarted?: number;
  switched?: number;
}

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

function lifeLeft(pem: string, now: number): { left: number; fraction: number; notAfter: Date } {
  const certificate = new X509Certificate(pem);
  const notBefore = new Date(certificate.validFrom).getTime();
  const notAfter = new Date(certificate.validTo);
  const left = notAfter.getTime() - now;
  return { left, fraction: left / Math.max(1, notAfter.getTime() - notBefore), notAfter };
}

export function describeCertificate(pem: string): string {
  const certificate = new X509Certificate(pem);
  return `serial ${certificate.serialNumber}, valid until ${new Date(certificate.validTo).toISOString()}`;
}

/** The certificates of a caBundle (base64 of concatenated PEM), or why it cannot be read. */
export function bundleCertificates(caBundle: string | undefined): string[] | { problem: string } {
  if (caBundle === undefined || caBundle === '') return [];
  const text = Buffer.from(caBundle, 'base64').toString('utf8');
  const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) return { problem: 'its caBundle holds no PEM certificate' };
  try {
    return pems.map((pem) => new X509Certificate(pem).toString());
  } catch (error) {
    return { problem: `its caBundle has a certificate that cannot be read (${(error as Error).message})` };
  }
}

export function encodeBundle(pems: readonly string[]): string {
  return Buffer.from(`${pems.map((pem) => pem.trim()).join('\n')}\n`, 'utf8').toString('base64');
}

function secretName(policy: UpkeepPolicy, name: string) {
  return `Secret ${policy.namespace}/${name}`;
}

function timestamp(annotations: Record<string, string>, key: string): number | undefined {
  const value = annotations[key];
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

/** Reads the CA Secret, refusing what the upkeep must not overwrite. */
function readCaSet(policy: UpkeepPolicy, stored: StoredSecret): CaSet {
  const where = secretName(policy, policy.caSecret);
  if (stored.annotations[CERT_MANAGER_SECRET] !== undefined)
    throw new UpkeepRefusal(
      `${where} is issued by cert-manager (Certificate ${stored.annotations[CERT_MANAGER_SECRET]}): left alone; use either cert-manager or the upkeep`,
    );
  const pair = (crt: string, key: string, role: string): CertificatePem | undefined => {
    const certificate = stored.data[crt];
    const privateKey = stored.data[key];
    if (certificate === undefined && privateKey === undefined) return undefined;
    if (certificate === undefined || privateKey === undefined)
      throw new UpkeepRefusal(
        `${where}: the ${role} CA has ${crt === undefined ? key : crt} but not the other`,
      );
    const problem = pairProblem({ certificate, privateKey });
    if (problem)
      throw new UpkeepRefusal(`${where}: ${crt} and ${key} (the ${role} CA): ${problem}; nothing changed`);
    if (!new X509Certificate(certificate).ca)
      throw new UpkeepRefusal(`${where}: ${crt} is not a CA certificate; nothing changed`);
    return { certificate, privateKey };
  };
  const active = pair('tls.crt', 'tls.key', 'active');
  if (!active) throw new UpkeepRefusal(`${where} has no tls.crt and tls.key (the CA); nothing changed`);
  const next = pair('next.crt', 'next.key', 'next');
  const previous = stored.data['previous.crt'];
  if (previous !== undefined) {
    try {
      new X509Certificate(previous);
    } catch (error) {
      throw new UpkeepRefusal(`${where}: previous.crt is not a certificate (${(error as Error).message})`);
    }
  }
  if (next && previous !== undefined)
    throw new UpkeepRefusal(`${where} has both next.crt and previous.crt: no run of the upkeep writes that`);
  return {
    active,
    ...(next && { next }),
    ...(previous !== undefined && { previous }),
    ...(timestamp(stored.annotations, ROTATION_STARTED) !== undefined && {
      rotationStarted: timestamp(stored.annotations, ROTATION_STARTED),
    }),
    ...(timestamp(stored.annotations, SWITCHED) !== undefined && {
      switched: timestamp(stored.annotations, SWITCHED),
    }),
  };
}

function caSecretContent(cas: CaSet, stored?: StoredSecret): SecretContent {
  const annotations = { ...(stored?.annotations ?? {}) };
  delete annotations[ROTATION_STARTED];
  delete annotations[SWITCHED];
  if (cas.rotationStarted !== undefined)
    annotations[ROTATION_STARTED] = new Date(cas.rotationStarted).toISOString();
  if (cas.switched !== undefined) annotations[SWITCHED] = new Date(cas.switched).toISOString();
  const data: Record<string, string> = {
    ...(stored?.data ?? {}),
    'tls.crt': cas.active.certificate,
    'tls.key': cas.active.privateKey,
    'ca.crt': cas.active.certificate,
  };
  delete data['next.crt'];
  delete data['next.key'];
  delete data['previous.crt'];
  if (cas.next) {
    data['next.crt'] = cas.next.certificate;
    data['next.key'] = cas.next.privateKey;
  }
  if (cas.previous !== undefined) data['previous.crt'] = cas.previous;
  return {
    type: stored?.type ?? 'kubernetes.io/tls',
    ...(stored && { resourceVersion: stored.resourceVersion }),
    annotations,
    labels: { ...secretLabels('ca'), ...(stored?.labels ?? {}) },
    data,
  };
}

function secretLabels(component: string): Record<string, string> {
  return { [OWNER_LABEL.key]: OWNER_LABEL.value, 'app.kubernetes.io/component': `webhook-${component}` };
}

/** Why a configuration is not ours to patch, or undefined when it is. */
function ownershipProblem(configuration: StoredConfiguration, known: Set<string>): string | undefined {
  const { kind, name } = configuration.ref;
  const where = `${kind} ${name}`;
  if (configuration.labels[OWNER_LABEL.key] !== OWNER_LABEL.value)
    return `${where} is not labelled ${OWNER_LABEL.key}=${OWNER_LABEL.value}: not ours, left alone`;
  if (configuration.annotations[CERT_MANAGER_INJECT] !== undefined)
    return `${where} has ${CERT_MANAGER_INJECT} (cert-manager's cainjector keeps its caBundle): left alone`;
  for (const webhook of configuration.webhooks) {
    const certificates = bundleCertificates(webhook.caBundle);
    if ('problem' in certificates)
      return `${where}, webhook ${webhook.name}: ${certificates.problem}; someone else changed it: left alone`;
    const foreign = certificates.filter((pem) => !known.has(fingerprint(pem)));
    if (foreign.length > 0)
      return `${where}, webhook ${webhook.name}: its caBundle holds a CA the upkeep did not make (${new X509Certificate(foreign[0] as string).subject.replace(/\n/g, ', ')}); someone else changed it: left alone`;
  }
  return undefined;
}

/** The JSON patch that sets every webhook's caBundle, guarded by tests of what was read. */
function bundlePatch(
  configuration: StoredConfiguration,
  bundle: string,
): { operations: unknown[]; changed: number } | undefined {
  const wanted = new Set((bundleCertificates(bundle) as string[]).map(fingerprint));
  const operations: unknown[] = [];
  let changed = 0;
  configuration.webhooks.forEach((webhook, i) => {
    const stored = new Set((bundleCertificates(webhook.caBundle) as string[]).map(fingerprint));
    if (stored.size === wanted.size && [...stored].every((f) => wanted.has(f))) return;
    changed++;
    operations.push({ op: 'test', path: `/webhooks/${i}/name`, value: webhook.name });
    if (webhook.caBundle === undefined) {
      operations.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle });
    } else {
      operations.push({ op: 'test', path: `/webhooks/${i}/clientConfig/caBundle`, value: webhook.caBundle });
      operations.push({ op: 'replace', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle });
    }
  });
  if (changed === 0) return undefined;
  return {
    operations: [
      { op: 'test', path: '/metadata/resourceVersion', value: configuration.resourceVersion },
      ...operations,
    ],
    changed,
  };
}

function holdsAll(configuration: StoredConfiguration, pems: readonly string[]): boolean {
  const wanted = pems.map(fingerprint);
  return configuration.webhooks.every((webhook) => {
    const stored = bundleCertificates(webhook.caBundle);
    if ('problem' in stored) return false;
    const have = new Set(stored.map(fingerprint));
    return wanted.every((f) => have.has(f));
  });
}

function caName(policy: UpkeepPolicy, now: number): string {
  return `faas-admission CA for ${policy.service}.${policy.namespace}.svc (${new Date(now).toISOString().slice(0, 19)}Z)`;
}

export async function plan(policy: UpkeepPolicy, state: State, now = Date.now()): Promise<Plan> {
  const writes: Write[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  const servingWhere = secretName(policy, policy.servingSecret);

  // The serving Secret is checked first: a key that is not its certificate's stops the run,
  // whatever the CA's state, so nothing is half done.
  let serving: CertificatePem | undefined;
  if (state.servingSecret) {
    const stored = state.servingSecret;
    if (stored.annotations[CERT_MANAGER_SECRET] !== undefined)
      throw new UpkeepRefusal(
        `${servingWhere} is issued by cert-manager (Certificate ${stored.annotations[CERT_MANAGER_SECRET]}): left alone; use either cert-manager or the upkeep`,
      );
    if (stored.type !== 'kubernetes.io/tls')
      throw new UpkeepRefusal(
        `${servingWhere} is of type ${stored.type}, not kubernetes.io/tls; nothing changed`,
      );
    serving = { certificate: stored.data['tls.crt'] ?? '', privateKey: stored.data['tls.key'] ?? '' };
    const problem = pairProblem(serving);
    if (problem)
      throw new UpkeepRefusal(
        `${servingWhere}: tls.crt and tls.key: ${problem}; nothing changed (delete the Secret to have a new one issued, or put back a matching key)`,
      );
  }

  // The CA: made on the first run, rotated before it expires.
  let cas: CaSet;
  let caChanged: string | undefined;
  let caLeaves = false;
  if (!state.caSecret) {
    const active = await issueCa({ commonName: caName(policy, now), days: policy.caLifetimeMs / DAY });
    cas = { active };
    caChanged = `a new CA (${describeCertificate(active.certificate)})`;
  } else {
    cas = readCaSet(policy, state.caSecret);
  }

  const configurations = [...state.configurations.entries()];
  for (const [ref, stored] of configurations)
    if (!stored) notes.push(`${ref.kind} ${ref.name} does not exist: nothing to keep there`);
  const known = new Set(
    [cas.active.certificate, cas.next?.certificate, cas.previous]
      .filter((p) => p !== undefined)
      .map(fingerprint),
  );
  const owned: StoredConfiguration[] = [];
  for (const [, stored] of configurations) {
    if (!stored) continue;
    const problem = ownershipProblem(stored, known);
    if (problem) problems.push(problem);
    else owned.push(stored);
  }
  // The old CA may only leave once every configuration, ours or not yet fixed, is in step.
  const everyConfigurationOurs = problems.length === 0;

  const activeLife = lifeLeft(cas.active.certificate, now);
  if (cas.previous !== undefined) {
    const since = now - (cas.switched ?? 0);
    const servingOnActive = serving !== undefined && signedBy(serving.certificate, cas.active.certificate);
    if (since >= policy.settleMs && servingOnActive && everyConfigurationOurs) {
      caChanged = `the previous CA (${describeCertificate(cas.previous)}) leaves the caBundles`;
      cas = { active: cas.active };
      caLeaves = true;
    } else {
      notes.push(
        `the previous CA stays in the caBundles until ${new Date((cas.switched ?? 0) + policy.settleMs).toISOString()}${servingOnActive ? '' : ' and the serving certificate is signed by the new CA'}`,
      );
    }
  } else if (cas.next) {
    const since = now - (cas.rotationStarted ?? 0);
    const trusted =
      everyConfigurationOurs &&
      owned.every((c) => holdsAll(c, [cas.active.certificate, cas.next?.certificate as string]));
    if (trusted && since >= policy.settleMs) {
      caChanged = `the new CA (${describeCertificate(cas.next.certificate)}) signs from now on; the old one (${describeCertificate(cas.active.certificate)}) stays in the caBundles for now`;
      cas = { active: cas.next, previous: cas.active.certificate, switched: now };
    } else {
      notes.push(
        trusted
          ? `the new CA signs from ${new Date((cas.rotationStarted ?? 0) + policy.settleMs).toISOString()} on (every caBundle holds it)`
          : 'the new CA signs once every caBundle holds both CAs',
      );
    }
  } else if (activeLife.fraction < policy.renewFraction) {
    const next = await issueCa({ commonName: caName(policy, now), days: policy.caLifetimeMs / DAY });
    caChanged = `CA rotation started: the CA (${describeCertificate(cas.active.certificate)}) has ${Math.round(activeLife.fraction * 100)}% of its life left; a new CA (${describeCertificate(next.certificate)}) joins the caBundles`;
    cas = { active: cas.active, next, rotationStarted: now };
  } else {
    notes.push(`the CA is current (${describeCertificate(cas.active.certificate)})`);
  }

  const secretWrites: Write[] = [];
  if (caChanged) {
    secretWrites.push({
      kind: 'secret',
      name: policy.caSecret,
      create: !state.caSecret,
      secret: caSecretContent(cas, state.caSecret),
      why: caChanged,
    });
  }

  // The serving certificate: signed by the active CA, for the Service's names, renewed when
  // less than `renewFraction` of its life is left.
  const hosts = [...serviceHosts(policy.service, policy.namespace), ...policy.extraHosts];
  let renew: string | undefined;
  if (!serving) renew = 'there is none';
  else if (!signedBy(serving.certificate, cas.active.certificate))
    renew = 'it is not signed by the active CA';
  else {
    const certificate = new X509Certificate(serving.certificate);
    const names = (certificate.subjectAltName ?? '')
      .split(', ')
      .map((n) => n.replace(/^(DNS|IP Address):/, ''));
    const life = lifeLeft(serving.certificate, now);
    if (hosts.some((h) => !names.includes(h))) renew = `it is not for ${hosts.join(', ')}`;
    else if (life.fraction < policy.renewFraction)
      renew = `${Math.round(life.fraction * 100)}% of its life is left (renewed below ${Math.round(policy.renewFraction * 100)}%)`;
    else notes.push(`the serving certificate is current (${describeCertificate(serving.certificate)})`);
  }
  if (renew) {
    const next = await issueServingCertificate({
      ca: cas.active,
      hosts,
      days: policy.servingLifetimeMs / DAY,
    });
    const stored = state.servingSecret;
    secretWrites.push({
      kind: 'secret',
      name: policy.servingSecret,
      create: !stored,
      secret: {
        type: 'kubernetes.io/tls',
        ...(stored && { resourceVersion: stored.resourceVersion }),
        annotations: stored?.annotations ?? {},
        labels: { ...secretLabels('tls'), ...(stored?.labels ?? {}) },
        data: {
          ...(stored?.data ?? {}),
          'tls.crt': next.certificate,
          'tls.key': next.privateKey,
          'ca.crt': cas.active.certificate,
        },
      },
      why: `serving certificate issued (${describeCertificate(next.certificate)}): ${renew}`,
    });
  }

  // The caBundles: what the CA set says, in every configuration that is ours.
  const bundlePems = [cas.previous, cas.active.certificate, cas.next?.certificate].filter(
    (p): p is string => p !== undefined,
  );
  const bundle = encodeBundle(bundlePems);
  const bundleWrites: Write[] = [];
  for (const configuration of owned) {
    const patch = bundlePatch(configuration, bundle);
    if (!patch) {
      notes.push(`${configuration.ref.kind} ${configuration.ref.name}: every caBundle is current`);
      continue;
    }
    bundleWrites.push({
      kind: 'caBundle',
      ref: configuration.ref,
      operations: patch.operations,
      why: `caBundle of ${patch.changed} of ${configuration.webhooks.length} webhooks set to ${bundlePems.length === 1 ? 'the CA' : `${bundlePems.length} CAs`} (serial ${bundlePems.map((p) => new X509Certificate(p).serialNumber).join(', ')})`,
    });
  }
  // A CA joining the bundles goes in after the Secret keeps its key; a CA leaving them goes
  // out before the Secret forgets it: an interrupted run never leaves a bundle with a CA the
  // next run does not know.
  if (caLeaves) writes.push(...bundleWrites, ...secretWrites);
  else writes.push(...secretWrites, ...bundleWrites);
  return { writes, problems, notes };
}
