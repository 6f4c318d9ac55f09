// The MutatingWebhookConfiguration: one webhook per function of the registry, each built from
// the function's own metadata (appliesTo, webhook), so nothing is kept twice by hand.
import type { AnyMutation, AppliesTo } from '../../shared/mutation.ts';
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
  const core = !everything && appliesTo.resources.every((r) => CORE_RESOURCES.has(r.split('/')[0] ?? ''));
  return {
    apiGroups: core ? [''] : ['*'],
    apiVersions: core ? ['v1'] : ['*'],
    resources: everything ? ['*'] : [...appliesTo.resources],
    operations: [...appliesTo.operations],
    scope: '*',
  };
}

export function webhookName(functionName: string, settings: DeploySettings): string {
  return `${functionName}.${TLS_PROXY}.${settings.namespace}.svc`;
}

function webhook(mutation: AnyMutation, settings: DeploySettings) {
  const { objectLabelExists, failurePolicy } = mutation.webhook;
  return {
    name: webhookName(mutation.name, settings),
    clientConfig: {
      service: {
        namespace: settings.namespace,
        name: TLS_PROXY,
        port: HTTPS_PORT,
        path: webhookPath(mutation.name),
      },
      ...(settings.caBundle && { caBundle: settings.caBundle }),
    },
    rules: [rule(mutation.appliesTo)],
    namespaceSelector: {
      matchExpressions: [
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: excludedNamespaces(settings) },
      ],
    },
    ...(objectLabelExists && {
      objectSelector: { matchExpressions: [{ key: objectLabelExists, operator: 'Exists' }] },
    }),
    failurePolicy,
    sideEffects: 'None',
    timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
    reinvocationPolicy: 'IfNeeded',
    admissionReviewVersions: ['v1', 'v1beta1'],
  };
}

export function webhookConfiguration(mutations: readonly AnyMutation[], settings: DeploySettings): Manifest {
  const object = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: PROJECT,
      labels: labels('webhooks'),
      // cert-manager's cainjector keeps every webhook's caBundle equal to the CA of this Certificate.
      ...(!settings.caBundle && {
        annotations: { 'cert-manager.io/inject-ca-from': `${settings.namespace}/${TLS_PROXY}` },
      }),
    },
    webhooks: mutations.map((m) => webhook(m, settings)),
  };
  const comments: Comment[] = mutations.flatMap((m, i) => [
    { path: ['webhooks', i, 'failurePolicy'], beside: ` ${m.webhook.failurePolicyReason}` },
    {
      path: ['webhooks', i, 'timeoutSeconds'],
      beside: ' warm function (min-scale 1): answers in milliseconds; this only bounds a stuck call',
    },
  ]);
  return { object, comments };
}
