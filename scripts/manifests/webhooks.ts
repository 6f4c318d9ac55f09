// The MutatingWebhookConfiguration (and the ValidatingWebhookConfiguration for functions of
// kind 'validating'): one webhook per function of the registry, each built from the function's
// own metadata (appliesTo, webhook), so nothing is kept twice by hand.
import type {
  AnyMutation,
  AppliesTo,
  LabelSelector,
  WebhookMatch,
  WebhookSettings,
} from '../../shared/mutation.ts';
import {
  clusterHas,
  type DeploySettings,
  endpointBase,
  HTTPS_PORT,
  labels,
  MATCH_CONDITIONS_SINCE,
  NAMESPACE_NAME_LABEL_SINCE,
  PROJECT,
  TLS_PROXY,
  WEBHOOK_TIMEOUT_SECONDS,
  webhookPath,
} from './settings.ts';
import type { Comment, Manifest } from './yaml.ts';

// Resources of the core API group (""): a rule naming only these is narrowed to that group.
// Anything else matches by resource name in every group, as the functions themselves do.
const CORE_RESOURCES = new Set([
  'bindings',
  'configmaps',
  'endpoints',
  'events',
  'limitranges',
  'namespaces',
  'nodes',
  'persistentvolumeclaims',
  'persistentvolumes',
  'pods',
  'podtemplates',
  'replicationcontrollers',
  'resourcequotas',
  'secrets',
  'serviceaccounts',
  'services',
]);

/**
 * Namespaces no webhook is called for: its own (so it never blocks its own pods from
 * starting) and the control plane's (leader-election leases and node heartbeats never wait on it).
 */
export function excludedNamespaces(settings: DeploySettings): string[] {
  return [settings.namespace, 'kube-system', 'kube-node-lease'];
}

export function rule(appliesTo: AppliesTo) {
  const everything = appliesTo.resources.includes('*');
  if (appliesTo.groups) {
    return {
      apiGroups: [...appliesTo.groups],
      apiVersions: appliesTo.versions ? [...appliesTo.versions] : ['*'],
      resources: everything ? ['*'] : [...appliesTo.resources],
      operations: [...appliesTo.operations],
      scope: '*',
    };
  }
  const core = !everything && appliesTo.resources.every((r) => CORE_RESOURCES.has(r.split('/')[0] ?? ''));
  return {
    apiGroups: core ? [''] : ['*'],
    apiVersions: core ? ['v1'] : ['*'],
    resources: everything ? ['*'] : [...appliesTo.resources],
    operations: [...appliesTo.operations],
    scope: '*',
  };
}

/** A function's webhook settings as deployed (see function-config.ts). */
export interface Registration {
  readonly mutation: AnyMutation;
  readonly webhook: WebhookSettings;
}

export function webhookName(functionName: string, settings: DeploySettings, match?: string): string {
  return `${functionName}${match ? `-${match}` : ''}.${TLS_PROXY}.${settings.namespace}.svc`;
}

/** Both selectors hold: their labels and expressions together. */
function bothSelectors(
  a: LabelSelector | undefined,
  b: LabelSelector | undefined,
): LabelSelector | undefined {
  if (!a || !b) return a ?? b;
  const matchLabels = { ...a.matchLabels, ...b.matchLabels };
  const matchExpressions = [...(a.matchExpressions ?? []), ...(b.matchExpressions ?? [])];
  return {
    ...(Object.keys(matchLabels).length > 0 && { matchLabels }),
    ...(matchExpressions.length > 0 && { matchExpressions }),
  };
}

function entry({ mutation, webhook }: Registration, settings: DeploySettings, match?: WebhookMatch) {
  const exists = webhook.objectLabelExists;
  const objectSelector = bothSelectors(
    exists ? { matchExpressions: [{ key: exists, operator: 'Exists' }] } : undefined,
    match?.objectSelector,
  );
  const path = webhookPath(mutation.name, match?.name);
  const base = endpointBase(settings, mutation.name);
  return {
    name: webhookName(mutation.name, settings, match?.name),
    clientConfig: {
      ...(base === undefined
        ? { service: { namespace: settings.namespace, name: TLS_PROXY, port: HTTPS_PORT, path } }
        : { url: `${base}${path}` }),
      ...(settings.caBundle && { caBundle: settings.caBundle }),
    },
    rules: [rule(mutation.appliesTo)],
    namespaceSelector: bothSelectors(
      {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excludedNamespaces(settings) },
        ],
      },
      match?.namespaceSelector,
    ),
    ...(objectSelector && { objectSelector }),
    ...(match?.matchConditions &&
      clusterHas(settings, MATCH_CONDITIONS_SINCE) && { matchConditions: match.matchConditions }),
    failurePolicy: webhook.failurePolicy,
    sideEffects: 'None',
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
    // Validating webhooks run once, after every mutation: nothing to reinvoke.
    ...(mutation.kind !== 'validating' && { reinvocationPolicy: 'IfNeeded' }),
    admissionReviewVersions: ['v1', 'v1beta1'],
  };
}

/**
 * Entries whose matchConditions the target cluster predates, with what that means: the entry is
 * written without them, so the apiserver sends everything its selectors match and the function
 * alone decides (it must check the condition itself).
 */
export function droppedMatchConditions(
  registrations: readonly Registration[],
  settings: DeploySettings,
): Map<string, string> {
  const dropped = new Map<string, string>();
  if (clusterHas(settings, MATCH_CONDITIONS_SINCE)) return dropped;
  const v = settings.kubernetesVersion;
  for (const { mutation, webhook } of registrations) {
    for (const match of webhook.matches ?? []) {
      if (!match.matchConditions?.length) continue;
      const names = match.matchConditions.map((c) => c.name).join(', ');
      dropped.set(
        webhookName(mutation.name, settings, match.name),
        `Kubernetes ${v?.major}.${v?.minor} predates matchConditions (1.28+): "${names}" left out;\n` +
          ` the apiserver sends every request the selectors match and ${mutation.name} checks it itself.`,
      );
    }
  }
  return dropped;
}

/** One entry per function, or one per match when the function selects in several ways. */
function entries(registration: Registration, settings: DeploySettings) {
  const matches = registration.webhook.matches;
  if (!matches || matches.length === 0) return [entry(registration, settings)];
  return matches.map((match) => entry(registration, settings, match));
}

export function webhookConfiguration(
  registrations: readonly Registration[],
  settings: DeploySettings,
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' = 'MutatingWebhookConfiguration',
): Manifest {
  const perFunction = registrations.map((r) => ({
    reason: r.webhook.failurePolicyReason,
    entries: entries(r, settings),
  }));
  const webhooks = perFunction.flatMap((f) => f.entries);
  const object = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind,
    metadata: {
      name: PROJECT,
      labels: labels('webhooks'),
      // cert-manager's cainjector keeps every webhook's caBundle equal to the CA of this Certificate.
      ...(!settings.caBundle && {
        annotations: { 'cert-manager.io/inject-ca-from': `${settings.namespace}/${TLS_PROXY}` },
      }),
    },
    webhooks,
  };
  const reasons = perFunction.flatMap((f) => f.entries.map(() => f.reason));
  const dropped = droppedMatchConditions(registrations, settings);
  const comments: Comment[] = [
    ...(webhooks.length > 0 && !clusterHas(settings, NAMESPACE_NAME_LABEL_SINCE)
      ? [
          {
            path: ['webhooks', 0, 'namespaceSelector'],
            before:
              ' Kubernetes before 1.21 does not label namespaces with kubernetes.io/metadata.name: label\n' +
              ` ${excludedNamespaces(settings).join(', ')} yourself (kubectl label namespace NAME\n` +
              ' kubernetes.io/metadata.name=NAME), or the webhooks are called for them too.',
          },
        ]
      : []),
    ...reasons.flatMap((reason, i) => [
      ...(dropped.has(webhooks[i]?.name ?? '')
        ? [{ path: ['webhooks', i, 'name'], before: ` ${dropped.get(webhooks[i]?.name ?? '')}` }]
        : []),
      { path: ['webhooks', i, 'failurePolicy'], beside: ` ${reason}` },
      {
        path: ['webhooks', i, 'timeoutSeconds'],
        beside: ' warm function (min-scale 1): answers in milliseconds; this only bounds a stuck call',
      },
    ]),
  ];
  return { object, comments };
}
