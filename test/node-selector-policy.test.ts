// node-selector's key policy: which nodeSelector keys a pod annotation may set, per namespace.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import nodeSelector from '../functions/node-selector/index.ts';
import { keyProblem, keyRuleFor, nodeSelectorPolicyFrom } from '../functions/node-selector/policy.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { PROTOTYPE_KEYS, policedNodeSelector } from './fuzz/arbitraries.ts';
import { apiserverVerdicts, projectRoot } from './support/apiserver.ts';
import { annotated, answer, edited, type Json, judged, sharedFixture } from './support/reviews.ts';

const KEY = 'knative.netease.dev/nodeSelector';
const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const said = (result: { reply: { response: { status?: { message?: string } } } }) =>
  result.reply.response.status?.message;
const withSelector = (selector: Record<string, string>, namespace = 'nfaas-demo', pod = knativePod) =>
  edited(annotated(pod, { [KEY]: JSON.stringify(selector) }), (_object, request) => {
    request.namespace = namespace;
  });

function policyFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'node-selector-policy-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

describe('node-selector: key policy', () => {
  const refused = [
    { key: 'kubernetes.io/hostname', why: 'names a single node' },
    { key: 'node-restriction.kubernetes.io/team', why: 'is reserved for labels only admins may set' },
    { key: 'node-role.kubernetes.io/control-plane', why: 'marks control-plane and infrastructure nodes' },
    { key: 'kubernetes.io/hostnames', why: undefined },
    { key: 'example.com/pool', why: undefined },
  ];
  for (const { key, why } of refused) {
    it(`refuses "${key}" by default, naming annotation, key and rule`, async () => {
      const result = await judged(
        'node-selector',
        withSelector({ 'kubernetes.io/arch': 'amd64', [key]: 'x' }),
      );
      assert.equal(result.reply.response.status?.code, 403);
      assert.ok(result.denial, 'allowed');
      assert.ok(
        said(result)?.startsWith(
          `annotation ${KEY}: key "${key}": not allowed by the node-selector policy's default rule`,
        ),
        said(result),
      );
      // Restricted keys say why; other keys are simply not on the list.
      assert.equal(said(result)?.includes(`(it ${why})`), why !== undefined, said(result));
      assert.ok(
        said(result)?.endsWith(
          '; the default rule allows keys kubernetes.io/arch, kubernetes.io/os, topology.kubernetes.io/zone, topology.kubernetes.io/region, node.kubernetes.io/instance-type; keys under knative.netease.dev/; keys without a prefix',
        ),
        said(result),
      );
    });
  }

  it("admits the well-known scheduling labels, the platform's own keys and keys without a prefix", async () => {
    const selector = {
      'kubernetes.io/arch': 'arm64',
      'kubernetes.io/os': 'linux',
      'topology.kubernetes.io/zone': 'zone-a',
      'topology.kubernetes.io/region': 'east',
      'node.kubernetes.io/instance-type': 'm5.large',
      'knative.netease.dev/pool': 'functions',
      disktype: 'ssd',
    };
    const result = await judged('node-selector', withSelector(selector));
    assert.deepEqual(result.object?.spec.nodeSelector, selector);
  });

  it('follows a policy file, per namespace, and names the rule in a refusal', async () => {
    const file = policyFile(`
default:
  keys: [kubernetes.io/arch]
  prefixes: []
  unprefixed: false
rules:
  - namespaces: [infra-*]
    keys: [kubernetes.io/hostname, node-role.kubernetes.io/infra]
    prefixes: [pool.example.com/]
    unprefixed: false
`);
    const env = { NODE_SELECTOR_POLICY_FILE: file };
    const pinned = { 'kubernetes.io/hostname': 'worker-1', 'pool.example.com/gpu': 'a100' };
    const infra = await judged('node-selector', withSelector(pinned, 'infra-logging'), env);
    assert.deepEqual(infra.object?.spec.nodeSelector, pinned);
    const tenant = await judged('node-selector', withSelector(pinned, 'shop'), env);
    assert.equal(
      said(tenant),
      `annotation ${KEY}: key "kubernetes.io/hostname": not allowed by the node-selector policy's default rule (it names a single node); key "pool.example.com/gpu": not allowed by the node-selector policy's default rule; the default rule allows keys kubernetes.io/arch`,
    );
    const unprefixed = await judged('node-selector', withSelector({ disktype: 'ssd' }, 'infra-x'), env);
    assert.match(
      unprefixed.denial ?? '',
      /key "disktype": not allowed by the node-selector policy's rule rules\[0\] \(namespace "infra-\*"\); the rule rules\[0\] \(namespace "infra-\*"\) allows keys kubernetes\.io\/hostname, node-role\.kubernetes\.io\/infra; keys under pool\.example\.com\/$/,
    );
  });

  it('refuses at start a policy whose prefix would cover a restricted key, or with an unknown field', () => {
    const cases = [
      {
        text: 'default:\n  prefixes: [kubernetes.io/]\n',
        message:
          /NODE_SELECTOR_POLICY_FILE: .*policy\.yaml: default\.prefixes\[0\]: "kubernetes\.io\/" covers "kubernetes\.io\/hostname", which names a single node: name such keys one by one in keys/,
      },
      {
        text: 'rules:\n  - namespaces: [a]\n    prefixes: [node-role.kubernetes.io/infra-]\n',
        message:
          /rules\[0\]\.prefixes\[0\]: "node-role\.kubernetes\.io\/infra-" covers "node-role\.kubernetes\.io\/"/,
      },
      {
        text: 'default:\n  key: [disktype]\n',
        message: /default\.key: is not a field of a node-selector policy rule \(did you mean keys\?\)/,
      },
      {
        text: 'rule:\n  - namespaces: [a]\n',
        message: /rule: is not a field of the node-selector policy \(did you mean rules\?\)/,
      },
      {
        text: 'default:\n  keys: ["-bad"]\n',
        message: /default\.keys\[0\]: "-bad": name part must consist of/,
      },
    ];
    for (const { text, message } of cases) {
      assert.throws(
        () => loadConfig(nodeSelector, { NODE_SELECTOR_POLICY_FILE: policyFile(text) }),
        (error: unknown) => error instanceof ConfigError && message.test(error.message),
        text,
      );
    }
  });

  it('the shipped sample policy loads', () => {
    loadConfig(nodeSelector, {
      NODE_SELECTOR_POLICY_FILE: join(projectRoot, 'samples', 'policies', 'node-selector.yaml'),
    });
  });

  it('treats keys named like built-in object properties as ordinary keys', async () => {
    for (const key of PROTOTYPE_KEYS) {
      // Absent from the pod: added, not taken for a conflict with Object's own property.
      const added = await judged('node-selector', withSelector({ [key]: 'a' }));
      assert.equal(added.object?.spec.nodeSelector[key], 'a', key);
      // Present in the pod with another value: the conflict names the pod's value.
      const pod = edited(knativePod, (object) => {
        object.spec.nodeSelector = { [key]: 'b' };
      });
      const conflict = await judged('node-selector', withSelector({ [key]: 'a' }, 'nfaas-demo', pod));
      assert.equal(
        said(conflict),
        `annotation ${KEY}: key "${key}": the pod's nodeSelector already sets it to "b", the annotation asks for "a" (NODE_SELECTOR_OVERRIDE=true lets the annotation win)`,
      );
    }
  });

  it('property: a selector is merged exactly when the rule allows every key, and never shows a built-in', async () => {
    const seed = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 1_000_000));
    const rule = keyRuleFor(nodeSelectorPolicyFrom({}, 'knative.netease.dev'), 'nfaas-demo');
    const restricted =
      /^(kubernetes\.io\/hostname$|node-restriction\.kubernetes\.io\/|node-role\.kubernetes\.io\/)/;
    const samples = fc.sample(
      fc.record({
        selector: policedNodeSelector,
        present: fc.option(policedNodeSelector),
      }),
      { numRuns: 300, seed },
    );
    const reviews: Json[] = [];
    for (const { selector, present } of samples) {
      const pod = edited(knativePod, (object) => {
        if (present) object.spec.nodeSelector = present;
      });
      reviews.push(withSelector(selector, 'nfaas-demo', pod));
    }
    const replies = reviews.map((r) => answer('node-selector', r));
    const verdicts = await apiserverVerdicts(reviews.map((request, i) => ({ request, reply: replies[i] })));
    for (const [i, { selector, present }] of samples.entries()) {
      const verdict = verdicts[i];
      const where = `seed ${seed}, sample ${i}: ${JSON.stringify({ selector, present })}`;
      assert.ok(verdict?.accepted, `${where}: the apiserver refuses the reply`);
      const said = JSON.stringify(replies[i]?.response);
      assert.ok(!said.includes('native code'), `${where}: ${said}`);
      const keys = Object.keys(selector);
      for (const key of keys) {
        if (restricted.test(key)) assert.ok(keyProblem(rule, key), `${where}: ${key} allowed`);
      }
      const allowed = keys.every((key) => keyProblem(rule, key) === undefined);
      const conflict = keys.some(
        (key) => present && Object.hasOwn(present, key) && present[key] !== selector[key],
      );
      assert.equal(verdict.allowed, allowed && !conflict, `${where}: ${said}`);
      if (verdict.allowed) {
        const object = verdict.object as Json;
        assert.deepEqual(object.spec.nodeSelector, { ...present, ...selector }, where);
      }
    }
  });
});
