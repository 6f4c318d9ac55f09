// `check`'s decisions on their own: whether kube-apiserver would call a webhook and why not
// (rules, operations, namespaceSelector, objectSelector, the webhook's own namespace, CEL
// matchConditions), and the budget. The webhooks are the generated deploy/webhooks.yaml, the
// registration users apply. matchConditions are tested here only: the control plane of the
// end-to-end suite (1.20) predates them (test/e2e/check.e2e.ts covers the rest against it).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { apiserverOrder, type BudgetEntry, budgetOf } from '../cli/check/budget.ts';
import { decide, ownNamespace, selectorMismatch, type Webhook } from '../cli/check/matching.ts';
import { reviewFor } from '../cli/review/build.ts';
import { podFromWorkload } from '../cli/review/pod.ts';
import type { AdmissionRequest, KubernetesObject } from '../shared/review.ts';
import { projectRoot } from './support/apiserver.ts';

const deployed = parseAllDocuments(readFileSync(join(projectRoot, 'deploy', 'webhooks.yaml'), 'utf8'))
  .map((d) => d.toJS() as { kind: string; webhooks: Webhook[] })
  .filter((c) => c?.kind === 'MutatingWebhookConfiguration')
  .flatMap((c) => c.webhooks);

function hook(name: string): Webhook {
  const found = deployed.find((w) => w.name.startsWith(`${name}.`));
  if (!found) throw new Error(`deploy/webhooks.yaml has no webhook ${name}`);
  return found;
}

const knativePod = (annotations: Record<string, string> = {}): KubernetesObject =>
  podFromWorkload({
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'hello', namespace: 'shop', ...(Object.keys(annotations).length && {}) },
    spec: {
      template: {
        metadata: { annotations },
        spec: { containers: [{ image: 'registry.example.com/hello:1' }] },
      },
    },
  }).pod;

const plainPod = (annotations?: Record<string, string>): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' }, ...(annotations && { annotations }) },
  spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
});

const requestOf = (
  object: KubernetesObject,
  options: Parameters<typeof reviewFor>[1] = {},
): AdmissionRequest => reviewFor(object, options).request;

const shop = { 'kubernetes.io/metadata.name': 'shop' };

describe('check: whether the apiserver calls a webhook', () => {
  it('calls volume-extension for a Knative pod, with no reason given', () => {
    assert.deepEqual(
      decide(hook('volume-extension'), { request: requestOf(knativePod()), namespaceLabels: shop }),
      {
        called: true,
      },
    );
  });

  it('rules: another resource, another operation, a subresource, the scope', () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' } };
    assert.deepEqual(
      decide(hook('node-selector'), { request: requestOf(configMap), namespaceLabels: shop }),
      {
        called: false,
        reason: 'rules: resource configmaps not in [pods]',
      },
    );
    const deletion = requestOf(knativePod(), { operation: 'DELETE' });
    assert.equal(
      decide(hook('node-selector'), { request: deletion, namespaceLabels: shop }).reason,
      'rules: operation DELETE not in [CREATE]',
    );
    const status = requestOf(knativePod(), { subResource: 'status' });
    assert.match(
      String(decide(hook('volume-extension'), { request: status, namespaceLabels: shop }).reason),
      /resource pods\/status not in \[pods, pods\/ephemeralcontainers\]/,
    );
    const clusterOnly: Webhook = {
      name: 'x',
      rules: [
        { apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['*'], scope: 'Cluster' },
      ],
    };
    assert.equal(
      decide(clusterOnly, { request: requestOf(plainPod()), namespaceLabels: shop }).reason,
      'rules: scope Cluster, the object is namespaced',
    );
  });

  it("namespaceSelector: the namespace's labels, its own namespace named as such", () => {
    const own = decide(hook('volume-extension'), {
      request: requestOf(knativePod(), { namespace: 'faas-admission' }),
      namespaceLabels: { 'kubernetes.io/metadata.name': 'faas-admission' },
    });
    assert.equal(own.called, false);
    assert.match(
      String(own.reason),
      /^namespaceSelector: namespace faas-admission lacks kubernetes.io\/metadata.name notin/,
    );
    assert.match(String(own.reason), /\(faas-admission is the webhook's own namespace\)$/);
    const system = decide(hook('volume-extension'), {
      request: requestOf(knativePod(), { namespace: 'kube-system' }),
      namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' },
    });
    assert.doesNotMatch(String(system.reason), /own namespace/);
    const optIn = decide(hook('sidecar-injection-namespace'), {
      request: requestOf(plainPod()),
      namespaceLabels: shop,
    });
    assert.equal(
      optIn.reason,
      'namespaceSelector: namespace shop lacks knative.netease.dev/inject=enabled (no such label)',
    );
    const wrongValue = selectorMismatch({ matchLabels: { team: 'a' } }, { team: 'b' });
    assert.equal(wrongValue, 'team=a (it is "b")');
  });

  it('knows the own namespace of a webhook reached by URL from its name', () => {
    assert.equal(
      ownNamespace({ name: 'volume-extension.faas-admission-tls.faas-admission.svc' }),
      'faas-admission',
    );
    assert.equal(
      ownNamespace({ name: 'x.svc.y.svc', clientConfig: { service: { namespace: 'z', name: 's' } } }),
      'z',
    );
    assert.equal(ownNamespace({ name: 'mutate.example.com' }), undefined);
  });

  it('objectSelector: the new object or, on UPDATE, the old one', () => {
    const plain = decide(hook('volume-extension'), { request: requestOf(plainPod()), namespaceLabels: shop });
    assert.equal(
      plain.reason,
      'objectSelector: the object lacks serving.knative.dev/service (no such label)',
    );
    // UPDATE that removes the label: the old object still matches, so the webhook is called.
    const update = requestOf(plainPod(), { operation: 'UPDATE', oldObject: knativePod() });
    assert.equal(decide(hook('volume-extension'), { request: update, namespaceLabels: shop }).called, true);
  });

  it('matchConditions: the CEL expressions of the registration, evaluated on the object', () => {
    const opted = { 'knative.netease.dev/inject': 'true' };
    const inNamespace = { ...shop, 'knative.netease.dev/inject': 'enabled' };
    assert.deepEqual(
      decide(hook('sidecar-injection-pod'), { request: requestOf(plainPod(opted)), namespaceLabels: shop }),
      {
        called: true,
      },
    );
    const notOpted = decide(hook('sidecar-injection-pod'), {
      request: requestOf(plainPod()),
      namespaceLabels: shop,
    });
    assert.equal(notOpted.called, false);
    assert.match(
      String(notOpted.reason),
      /^matchConditions opted-in: has\(object\.metadata\.annotations\) .* is false$/,
    );
    // Opted out by annotation in an opted-in namespace: the namespace entry's condition is false.
    const out = decide(hook('sidecar-injection-namespace'), {
      request: requestOf(plainPod({ 'knative.netease.dev/inject': 'false' })),
      namespaceLabels: inNamespace,
    });
    assert.equal(out.called, false);
    assert.match(String(out.reason), /^matchConditions not-opted-out: .* is false$/);
    assert.equal(
      decide(hook('sidecar-injection-namespace'), {
        request: requestOf(plainPod()),
        namespaceLabels: inNamespace,
      }).called,
      true,
    );
  });

  it('matchConditions that fail to evaluate follow the failurePolicy', () => {
    const broken = (failurePolicy: string): Webhook => ({
      name: 'broken',
      failurePolicy,
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['pods'], operations: ['CREATE'] }],
      matchConditions: [{ name: 'typo', expression: "object.metadata.labels['missing'] == 'x'" }],
    });
    const request = requestOf({ ...plainPod(), metadata: { name: 'web', namespace: 'shop' } });
    const fail = decide(broken('Fail'), { request, namespaceLabels: shop });
    assert.equal(fail.called, true);
    assert.match(
      String(fail.reason),
      /^matchConditions typo: error: .*\(failurePolicy Fail: the request is rejected\)$/,
    );
    const ignore = decide(broken('Ignore'), { request, namespaceLabels: shop });
    assert.equal(ignore.called, false);
    assert.match(String(ignore.reason), /\(failurePolicy Ignore: skipped\)$/);
    // A condition that is not a boolean skips the webhook, as the apiserver does.
    const notBoolean = decide(
      { ...broken('Ignore'), matchConditions: [{ name: 'name', expression: 'object.metadata.name' }] },
      { request, namespaceLabels: shop },
    );
    assert.equal(notBoolean.called, false);
  });
});

describe('check: the admission budget', () => {
  const entry = (
    configuration: string,
    timeoutSeconds: number,
    extra: Partial<Webhook> = {},
    validating = false,
  ): BudgetEntry => ({
    configuration,
    webhook: { name: `${configuration}.example.com`, timeoutSeconds, ...extra },
    validating,
    ours: false,
  });

  it('orders mutating configurations by name, validating ones after', () => {
    const order = apiserverOrder([
      entry('zeta', 1),
      entry('alpha', 1, {}, true),
      entry('beta', 1),
      entry('alpha', 1),
    ]);
    assert.deepEqual(
      order.map((e) => `${e.validating ? 'v' : 'm'}:${e.configuration}`),
      ['m:alpha', 'm:beta', 'm:zeta', 'v:alpha'],
    );
  });

  it('sums mutating timeouts, the reinvoked ones again, and the slowest validating one', () => {
    const budget = budgetOf(
      [
        entry('a', 5, { reinvocationPolicy: 'IfNeeded' }),
        entry('b', 15, { failurePolicy: 'Ignore' }),
        entry('c', 10, {}, true),
        entry('d', 3, {}, true),
      ],
      30,
    );
    assert.deepEqual(budget, {
      mutatingSeconds: 20,
      reinvocationSeconds: 5,
      validatingSeconds: 10,
      worstSeconds: 35,
      deadlineSeconds: 30,
      over: true,
    });
    // An unset timeout is admissionregistration/v1's default, 10 s; one mutating webhook is never reinvoked.
    assert.equal(
      budgetOf([{ ...entry('a', 0), webhook: { name: 'a', reinvocationPolicy: 'IfNeeded' } }], 30)
        .worstSeconds,
      10,
    );
  });
});
