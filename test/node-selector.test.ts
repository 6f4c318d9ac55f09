import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { functionKit } from './support/function-kit.ts';
import { annotated, edited, sample, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const KEY = 'knative.netease.dev/nodeSelector';
const withSelector = (text: string) => annotated(knativePod, { [KEY]: text });

describe('node-selector', () => {
  const kit = functionKit('node-selector');

  it('sets spec.nodeSelector from the annotation, creating the map', async () => {
    await kit.expectPatched(knativePod, (pod, { patch }) => {
      assert.deepEqual(pod.spec.nodeSelector, { disktype: 'ssd', 'kubernetes.io/arch': 'amd64' });
      assert.deepEqual(
        patch.map((op) => op.path),
        ['/spec/nodeSelector'],
      );
    });
  });

  it('merges into an existing nodeSelector, adding only the new keys (escaped)', async () => {
    const reviewed = edited(knativePod, (pod) => {
      pod.spec.nodeSelector = { disktype: 'ssd', 'example.com/pool': 'batch' };
    });
    await kit.expectPatched(reviewed, (pod, { patch }) => {
      assert.deepEqual(pod.spec.nodeSelector, {
        disktype: 'ssd',
        'example.com/pool': 'batch',
        'kubernetes.io/arch': 'amd64',
      });
      assert.deepEqual(patch, [
        { op: 'add', path: '/spec/nodeSelector/kubernetes.io~1arch', value: 'amd64' },
      ]);
    });
  });

  it('escapes ~ in keys', async () => {
    const reviewed = edited(withSelector('{"a~b":"x"}'), (pod) => {
      pod.spec.nodeSelector = { other: 'y' };
    });
    // '~' is not valid in a label key: the denial names it.
    await kit.expectDenied(reviewed, '', /key "a~b": name part must consist of/);
  });

  it('denies a conflicting key unless NODE_SELECTOR_OVERRIDE=true, then warns', async () => {
    const conflict = sample('knative-pod-node-selector-conflict.json');
    await kit.expectDenied(
      conflict,
      'annotation knative.netease.dev/nodeSelector',
      /^key "disktype": the pod's nodeSelector already sets it to "hdd", the annotation asks for "ssd"/,
      { code: 409 },
    );
    const overriding = functionKit('node-selector', { NODE_SELECTOR_OVERRIDE: 'true' });
    await overriding.expectPatched(conflict, (pod, { patch, warnings }) => {
      assert.equal(pod.spec.nodeSelector.disktype, 'ssd');
      assert.match(warnings[0] ?? '', /"disktype" changed from "hdd" to "ssd"/);
      assert.deepEqual(patch, [
        { op: 'replace', path: '/spec/nodeSelector/disktype', value: 'ssd' },
        { op: 'add', path: '/spec/nodeSelector/topology.kubernetes.io~1zone', value: 'zone-a' },
      ]);
    });
  });

  const denied: { name: string; text: string; message: RegExp }[] = [
    { name: 'bad JSON', text: '{disktype: ssd}', message: /nodeSelector: not valid JSON/ },
    {
      name: 'an array',
      text: '["ssd"]',
      message: /nodeSelector: must be a JSON object of label key to value/,
    },
    { name: 'a number value', text: '{"replicas": 3}', message: /replicas: must be a string/ },
    { name: 'a bad key', text: '{"-bad": "x"}', message: /key "-bad": name part must consist of/ },
    {
      name: 'a bad key prefix',
      text: '{"Example.COM/x": "y"}',
      message: /key "Example.COM\/x": prefix part must be a lowercase RFC 1123 subdomain/,
    },
    {
      name: 'a bad value',
      text: '{"disktype": "fast ssd"}',
      message: /key "disktype": value "fast ssd" must be empty or consist of/,
    },
    {
      name: 'a long value',
      text: `{"a": "${'v'.repeat(64)}"}`,
      message: /value "v+" must be no more than 63 characters/,
    },
  ];
  for (const c of denied) {
    it(`denies ${c.name}`, async () => {
      await kit.expectDenied(withSelector(c.text), '', c.message, { code: 400 });
    });
  }

  it('leaves pods without the annotation, and an empty selector, unchanged', async () => {
    for (const reviewed of [sharedFixture('plain-pod-no-labels.v1.json'), withSelector('{}')]) {
      await kit.expectUnchanged(reviewed);
    }
  });
});
