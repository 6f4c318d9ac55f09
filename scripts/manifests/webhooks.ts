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
  type DeploySettings,
  HTTPS_PORT,
  labels,
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
  return {
    name: webhookName(mutation.name, settings, match?.name),
    clientConfig: {
      service: {
        namespace: settings.namespace,
        name: TLS_PROXY,
        port: HTTPS_PORT,
        path: webhookPath(mutation.name, match?.name),
      },
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
    ...(match?.matchConditions && { matchConditions: match.matchConditions }),
    failurePolicy: webhook.failurePolicy,
    sideEffects: 'None',
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
    // Validating webhooks run once, after every mutation: nothing to reinvoke.
    ...(mutation.kind !== 'validating' && { reinvocationPolicy: 'IfNeeded' }),
    admissionReviewVersions: ['v1', 'v1beta1'],
  };
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
  const comments: Comment[] = reasons.flatMap((reason, i) => [
    { path: ['webhooks', i, 'failurePolicy'], beside: ` ${reason}` },
    {
      path: ['webhooks', i, 'timeoutSeconds'],
      beside: ' warm function (min-scale 1): answers in milliseconds; this only bounds a stuck call',
    },
  ]);
  return { object, comments };
}
