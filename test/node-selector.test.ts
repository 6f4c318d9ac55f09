import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotated, assertIdempotent, edited, judged, sample, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const KEY = 'knative.netease.dev/nodeSelector';
const withSelector = (text: string) => annotated(knativePod, { [KEY]: text });

describe('node-selector', () => {
  it('sets spec.nodeSelector from the annotation, creating the map', async () => {
    const result = await judged('node-selector', knativePod);
    assert.deepEqual(result.object.spec.nodeSelector, { disktype: 'ssd', 'kubernetes.io/arch': 'amd64' });
    assert.deepEqual(
      result.patch.map((op) => op.path),
      ['/spec/nodeSelector'],
    );
    await assertIdempotent('node-selector', result, knativePod);
  });

  it('merges into an existing nodeSelector, adding only the new keys (escaped)', async () => {
    const reviewed = edited(knativePod, (pod) => {
      pod.spec.nodeSelector = { disktype: 'ssd', 'example.com/pool': 'batch' };
    });
    const result = await judged('node-selector', reviewed);
    assert.deepEqual(result.object.spec.nodeSelector, {
      disktype: 'ssd',
      'example.com/pool': 'batch',
      'kubernetes.io/arch': 'amd64',
    });
    assert.deepEqual(result.patch, [
      { op: 'add', path: '/spec/nodeSelector/kubernetes.io~1arch', value: 'amd64' },
    ]);
    await assertIdempotent('node-selector', result, reviewed);
  });

  it('escapes ~ in keys', async () => {
    const reviewed = edited(withSelector('{"a~b":"x"}'), (pod) => {
      pod.spec.nodeSelector = { other: 'y' };
    });
    const result = await judged('node-selector', reviewed);
    // '~' is not valid in a label key: the denial names it.
    assert.match(result.denial ?? '', /key "a~b": name part must consist of/);
  });

  it('denies a conflicting key unless NODE_SELECTOR_OVERRIDE=true, then warns', async () => {
    const conflict = sample('knative-pod-node-selector-conflict.json');
    const denied = await judged('node-selector', conflict);
    assert.match(
      denied.denial ?? '',
      /annotation knative\.netease\.dev\/nodeSelector: key "disktype": the pod's nodeSelector already sets it to "hdd", the annotation asks for "ssd"/,
    );
    assert.equal(denied.reply.response.status?.code, 409);
    const overridden = await judged('node-selector', conflict, { NODE_SELECTOR_OVERRIDE: 'true' });
    assert.equal(overridden.object.spec.nodeSelector.disktype, 'ssd');
    assert.match(overridden.reply.response.warnings?.[0] ?? '', /"disktype" changed from "hdd" to "ssd"/);
    assert.deepEqual(overridden.patch, [
      { op: 'replace', path: '/spec/nodeSelector/disktype', value: 'ssd' },
      { op: 'add', path: '/spec/nodeSelector/topology.kubernetes.io~1zone', value: 'zone-a' },
    ]);
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
      const result = await judged('node-selector', withSelector(c.text));
      assert.match(result.denial ?? '(allowed)', c.message);
      assert.equal(result.reply.response.status?.code, 400);
    });
  }

  it('leaves pods without the annotation, and an empty selector, unchanged', async () => {
    for (const reviewed of [sharedFixture('plain-pod-no-labels.v1.json'), withSelector('{}')]) {
      const result = await judged('node-selector', reviewed);
      assert.deepEqual(result.patch, []);
      assert.equal(result.reply.response.allowed, true);
    }
  });
});
