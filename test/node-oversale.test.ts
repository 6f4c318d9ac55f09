import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { parseQuantity } from '../shared/k8s/quantity.ts';
import { webhookSettings } from '../shared/mutation.ts';
import { forgedOversaleStatus } from './fuzz/arbitraries.ts';
import { apiserverVerdicts } from './support/apiserver.ts';
import { functionKit } from './support/function-kit.ts';
import { answer, assertIdempotent, edited, type Json, judged, sample } from './support/reviews.ts';

const NAME = 'node-oversale';
const LABEL = 'node-role.example.com/oversale';
const RECORD = 'knative.netease.dev/oversale';
const env = { OVERSALE_RULES: `${LABEL}=true:cpu=2,memory=1.5` };
const KUBELET = { cpu: '7800m', memory: '31628424Ki' };

const heartbeat = sample('node-oversale/kubelet-heartbeat.json');
const firstHeartbeat = sample('node-oversale/first-heartbeat.json');
const npd = sample('node-oversale/node-problem-detector.json');

const allocatable = (node: Json) => ({
  cpu: node.status.allocatable.cpu,
  memory: node.status.allocatable.memory,
});
const record = (node: Json) => {
  const text = node.metadata.annotations?.[RECORD];
  return text === undefined ? undefined : JSON.parse(text);
};

/** The kubelet's next status update of a node stored as `stored`: its own allocatable patched back. */
function kubeletUpdate(
  stored: Json,
  reported: Record<string, string> = KUBELET,
  edit?: (node: Json) => void,
): Json {
  return edited(heartbeat, (_object, request) => {
    request.oldObject = structuredClone(stored);
    const node = structuredClone(stored);
    Object.assign(node.status.allocatable, reported);
    for (const condition of node.status.conditions) condition.lastHeartbeatTime = '2026-11-22T10:05:00Z';
    edit?.(node);
    request.object = node;
  });
}

/** Another writer's status update (a condition): the stored allocatable comes along unchanged. */
function otherUpdate(stored: Json, edit?: (node: Json) => void): Json {
  return edited(npd, (_object, request) => {
    request.oldObject = structuredClone(stored);
    request.object = structuredClone(stored);
    edit?.(request.object);
  });
}

describe('node-oversale', () => {
  const kit = functionKit(NAME, env);

  it("scales the kubelet's heartbeat by the node's ratio and changes only allocatable", async () => {
    // expectPatched's second run: a reinvocation sees the scaled value, recognises it and does
    // not scale twice.
    await kit.expectPatched(heartbeat, (node, { patch }) => {
      assert.deepEqual(allocatable(node), { cpu: '15600m', memory: '47442636Ki' });
      assert.deepEqual(patch.map((op) => `${op.op} ${op.path}`).sort(), [
        'replace /status/allocatable/cpu',
        'replace /status/allocatable/memory',
      ]);
      // Everything else the kubelet reported is kept, capacity included.
      assert.deepEqual(node.status.capacity, heartbeat.request.object.status.capacity);
      assert.equal(node.status.allocatable.pods, '110');
    });
  });

  it('on the first heartbeat after the label records what it scaled from', async () => {
    await kit.expectPatched(firstHeartbeat, (node, { patch }) => {
      assert.deepEqual(allocatable(node), { cpu: '15600m', memory: '47442636Ki' });
      assert.deepEqual(record(node), {
        kubelet: { cpu: '7800m', memory: '31628424Ki' },
        oversold: { cpu: '15600m', memory: '47442636Ki' },
      });
      assert.deepEqual(patch.map((op) => `${op.op} ${op.path}`).sort(), [
        'add /metadata/annotations/knative.netease.dev~1oversale',
        'replace /status/allocatable/cpu',
        'replace /status/allocatable/memory',
      ]);
    });
  });

  it("leaves another writer's status update alone: the allocatable it carries is already scaled", async () => {
    await kit.expectUnchanged(npd);
  });

  it('follows a node through heartbeats, other writers, a new ratio and the label going away', async () => {
    let stored = (await judged(NAME, firstHeartbeat, env)).object;
    const scaledOnce = allocatable(stored);
    for (const review of [kubeletUpdate(stored), otherUpdate(stored), kubeletUpdate(stored)]) {
      const result = await judged(NAME, review, env);
      assert.deepEqual(allocatable(result.object), scaledOnce);
      stored = result.object;
    }
    // A new ratio, seen first on another writer's update: the value this webhook wrote is
    // kept within what the new rule allows from capacity (8 cpu × 1.5; memory, no longer
    // oversold, at most its capacity). The record's numbers are never used to compute.
    const lower = { OVERSALE_RULES: `${LABEL}=true:cpu=1.5` };
    stored = (await judged(NAME, otherUpdate(stored), lower)).object;
    assert.deepEqual(allocatable(stored), { cpu: '12', memory: '32779400Ki' });
    assert.deepEqual(record(stored), { kubelet: { cpu: '7800m' }, oversold: { cpu: '12' } });
    // The kubelet's next heartbeat brings its own values (a new reservation): scaled from them.
    stored = (await judged(NAME, kubeletUpdate(stored, { cpu: '7500m', memory: '31000000Ki' }), lower))
      .object;
    assert.deepEqual(allocatable(stored), { cpu: '11250m', memory: '31000000Ki' });
    // The label goes: the value this webhook wrote is brought within capacity, the record goes,
    // and the kubelet's next heartbeat is stored as it is.
    const unlabelled = otherUpdate(stored, (node) => {
      delete node.metadata.labels[LABEL];
    });
    const restored = await judged(NAME, unlabelled, lower);
    assert.deepEqual(allocatable(restored.object), { cpu: '8', memory: '31000000Ki' });
    assert.equal(record(restored.object), undefined);
    await assertIdempotent(NAME, restored, unlabelled, lower);
    const next = kubeletUpdate(restored.object, { cpu: '7500m', memory: '31000000Ki' }, (node) => {
      delete node.metadata.labels[LABEL];
    });
    const back = await judged(NAME, next, lower);
    assert.deepEqual(allocatable(back.object), { cpu: '7500m', memory: '31000000Ki' });
  });

  const scaling: {
    name: string;
    env: Record<string, string>;
    reported?: Record<string, string>;
    expected: Json;
  }[] = [
    {
      name: 'caps at OVERSALE_MAX',
      env: { ...env, OVERSALE_MAX: 'cpu=10,memory=40Gi' },
      expected: { cpu: '10', memory: '40Gi' },
    },
    {
      name: "never goes below the kubelet's value, whatever the cap",
      env: { ...env, OVERSALE_MAX: 'cpu=4,memory=1Gi' },
      expected: { cpu: '7800m', memory: '31628424Ki' },
    },
    {
      name: 'rounds memory down to whole Ki and cpu to whole millicores',
      env: { OVERSALE_RULES: `${LABEL}=true:cpu=1.3333,memory=1.3` },
      expected: { cpu: '10399m', memory: '41116951Ki' },
    },
    {
      name: 'keeps the form the kubelet wrote: bytes, exponents, whole cores',
      env: { OVERSALE_RULES: `${LABEL}=true:cpu=1.001,memory=1.5` },
      reported: { cpu: '7', memory: '17179869184' },
      expected: { cpu: '7007m', memory: '25769803776' },
    },
    {
      name: 'reads decimal exponents',
      env: { OVERSALE_RULES: `${LABEL}=true:memory=1.5` },
      reported: { cpu: '7800m', memory: '129e6' },
      expected: { cpu: '7800m', memory: '193500e3' },
    },
    {
      name: 'applies the first rule whose selector matches (key alone: the label exists)',
      env: { OVERSALE_RULES: `pool=batch:cpu=3; ${LABEL}:cpu=1.5; ${LABEL}=true:cpu=2` },
      expected: { cpu: '11700m', memory: '31628424Ki' },
    },
    {
      name: 'a ratio of 1 changes nothing',
      env: { OVERSALE_RULES: `${LABEL}=true:cpu=1.0,memory=1` },
      expected: KUBELET,
    },
    {
      name: 'a selector named like a built-in object property matches only a real label',
      env: { OVERSALE_RULES: 'constructor:cpu=3; toString:cpu=3' },
      expected: KUBELET,
    },
    {
      name: 'a node no rule selects is left as reported',
      env: { OVERSALE_RULES: 'pool=batch:cpu=3' },
      expected: KUBELET,
    },
  ];
  for (const c of scaling) {
    it(c.name, async () => {
      const review = c.reported
        ? edited(firstHeartbeat, (node) => Object.assign(node.status.allocatable, c.reported))
        : firstHeartbeat;
      const scaler = functionKit(NAME, c.env);
      // Expected as it came (the kubelet's value, or a cap that leaves it): no patch.
      if (isDeepStrictEqual(allocatable(review.request.object), c.expected))
        await scaler.expectUnchanged(review);
      else
        await scaler.expectPatched(review, (node) => {
          assert.deepEqual(allocatable(node), c.expected);
        });
    });
  }

  it('does not scale an allocatable above capacity that it did not write, and says so', async () => {
    const review = edited(firstHeartbeat, (node) => {
      node.status.allocatable.cpu = '16';
    });
    await kit.expectPatched(review, (node, { warnings }) => {
      assert.equal(node.status.allocatable.cpu, '16');
      assert.equal(node.status.allocatable.memory, '47442636Ki');
      assert.match(
        warnings.join('\n'),
        /status\.allocatable\.cpu 16 is above status\.capacity\.cpu and not the value this webhook wrote; left unchanged/,
      );
    });
  });

  it('never computes from a forged record: bounded by capacity, never negative', async () => {
    const forged = (kubelet: Record<string, string>) =>
      edited(npd, (node) => {
        node.metadata.annotations[RECORD] = JSON.stringify({
          kubelet,
          oversold: { cpu: node.status.allocatable.cpu, memory: node.status.allocatable.memory },
        });
      });
    // Another writer's update carries the stored, scaled allocatable (15600m of 8 cpu capacity).
    for (const kubelet of [
      { cpu: '1000', memory: '1Ei' },
      { cpu: '-8', memory: '-1Gi' },
      { cpu: '1m', memory: '1Ki' },
    ]) {
      const result = await judged(NAME, forged(kubelet), env);
      assert.deepEqual(
        allocatable(result.object),
        { cpu: '15600m', memory: '47442636Ki' },
        JSON.stringify(kubelet),
      );
    }
    // A forged oversold value above what capacity allows under the rule is brought within it.
    const above = edited(npd, (node) => {
      node.status.allocatable.cpu = '900';
      node.status.allocatable.memory = '-5Gi';
      node.metadata.annotations[RECORD] = JSON.stringify({
        kubelet: { cpu: '450', memory: '-5Gi' },
        oversold: { cpu: '900', memory: '-5Gi' },
      });
    });
    const bounded = await judged(NAME, above, env);
    assert.deepEqual(allocatable(bounded.object), { cpu: '16', memory: '0' });
    // A negative allocatable reported without a record is scaled from zero.
    const negative = edited(firstHeartbeat, (node) => {
      node.status.allocatable.cpu = '-2';
    });
    assert.equal((await judged(NAME, negative, env)).object?.status.allocatable.cpu, '0');
  });

  it('property: the result depends on no number of the record, is never negative and never above capacity × ratio', async () => {
    const seed = Number(process.env.PROPERTY_SEED ?? Math.floor(Math.random() * 1_000_000));
    const rules = { ...env, OVERSALE_MAX: 'cpu=64' };
    const samples = fc.sample(forgedOversaleStatus, { numRuns: 250, seed });
    const reviews: Json[] = [];
    for (const { capacity, allocatable: reported, records } of samples) {
      for (const text of records ?? [undefined]) {
        reviews.push(
          edited(npd, (node) => {
            Object.assign(node.status.capacity, capacity);
            Object.assign(node.status.allocatable, reported);
            if (text === undefined) delete node.metadata.annotations[RECORD];
            else node.metadata.annotations[RECORD] = text;
          }),
        );
      }
    }
    const replies = reviews.map((r) => answer(NAME, r, rules));
    const verdicts = await apiserverVerdicts(reviews.map((request, i) => ({ request, reply: replies[i] })));
    const ratios = { cpu: [2n, 1n], memory: [3n, 2n] } as const;
    let index = 0;
    for (const [i, { capacity, allocatable: reported, records }] of samples.entries()) {
      const where = `seed ${seed}, sample ${i}: ${JSON.stringify(samples[i])}`;
      const results: Json[] = [];
      for (const _ of records ?? [undefined]) {
        const verdict = verdicts[index++];
        assert.ok(verdict?.accepted && verdict.allowed, `${where}: ${JSON.stringify(verdict)}`);
        results.push((verdict.object as Json).status.allocatable);
      }
      // Two records that differ only in their kubelet numbers give the same allocatable.
      if (results.length === 2)
        assert.deepEqual(results[0], results[1], `${where}: the record was computed from`);
      for (const resource of ['cpu', 'memory'] as const) {
        const after = parseQuantity(results[0][resource]).nanos;
        const before = parseQuantity(reported[resource]).nanos;
        if (after === before) continue; // left as it came
        const [numerator, denominator] = ratios[resource];
        const limit = (parseQuantity(capacity[resource]).nanos * numerator) / denominator;
        assert.ok(after >= 0n, `${where}: ${resource} ${results[0][resource]} is negative`);
        assert.ok(after <= limit, `${where}: ${resource} ${results[0][resource]} is above capacity × ratio`);
      }
    }
  });

  it('ignores a malformed record, with a warning, and replaces it', async () => {
    const review = edited(firstHeartbeat, (node) => {
      node.metadata.annotations[RECORD] = '{"kubelet":';
    });
    await kit.expectPatched(review, (node, { warnings }) => {
      assert.match(warnings[0] ?? '', /annotation knative\.netease\.dev\/oversale is not/);
      assert.deepEqual(record(node).oversold, { cpu: '15600m', memory: '47442636Ki' });
    });
  });

  it('names the field of a record with unknown keys or values that are no quantities', async () => {
    // Warnings are cut at a readable length: the start names the field.
    const cases: [string, string][] = [
      [
        '{"kubelett":{"cpu":"1"},"oversold":{}}',
        'node-oversale: annotation knative.netease.dev/oversale is not the record this function writes: kubelett: is not a field of the record (did you mean kubelet?); kubelet: is missing; ignored',
      ],
      [
        '{"kubelet":{"cpus":"1"},"oversold":{"cpu":"lots"}}',
        'node-oversale: annotation knative.netease.dev/oversale is not the record this function writes: kubelet.cpus: is not a field of the record (resources) (did you mean cpu?); oversold.cpu: "lots" is not a quantity',
      ],
    ];
    for (const [text, warning] of cases) {
      const review = edited(firstHeartbeat, (node) => {
        node.metadata.annotations[RECORD] = text;
      });
      await kit.expectPatched(review, (node, { warnings }) => {
        const said = warnings[0] ?? '';
        assert.ok(said.startsWith(warning), said);
        assert.deepEqual(record(node).oversold, { cpu: '15600m', memory: '47442636Ki' });
      });
    }
  });

  it('acts on nodes/status UPDATE only', async () => {
    const nodeUpdate = edited(heartbeat, (_node, request) => {
      request.subResource = undefined;
    });
    await kit.expectUnchanged(nodeUpdate);
    const mutation = functionNamed(NAME);
    assert.deepEqual(mutation.appliesTo, { resources: ['nodes/status'], operations: ['UPDATE'] });
    assert.equal(webhookSettings(mutation, loadConfig(mutation, env)).failurePolicy, 'Ignore');
  });

  const badConfig: [Record<string, string>, RegExp][] = [
    [
      { OVERSALE_RULES: `${LABEL}=true` },
      /OVERSALE_RULES: rule ".*": expected <label>\[=<value>\]:<resource>=<ratio>/,
    ],
    [{ OVERSALE_RULES: `${LABEL}=true:cpu=0.5` }, /rule ".*": cpu: ratio 0\.5 must be from 1 to 10/],
    [{ OVERSALE_RULES: `${LABEL}=true:cpu=150` }, /cpu: ratio 150 must be from 1 to 10/],
    [{ OVERSALE_RULES: `${LABEL}=true:cpu=2x` }, /cpu: ratio "2x" must be a decimal number/],
    [{ OVERSALE_RULES: `${LABEL}=true:pods=2` }, /resource "pods" is not one of cpu, memory$/],
    [
      { OVERSALE_RULES: `${LABEL}=true:cpus=2` },
      /resource "cpus" is not one of cpu, memory \(did you mean cpu\?\)/,
    ],
    [
      { OVERSALE_MAX: 'Memory=1Ti' },
      /OVERSALE_MAX: entry "Memory=1Ti": resource "Memory" is not one of cpu, memory \(did you mean memory\?\)/,
    ],
    [{ OVERSALE_RULES: `${LABEL}=true:cpu=2,cpu=3` }, /cpu is given twice/],
    [{ OVERSALE_RULES: 'Bad Key=true:cpu=2' }, /label key "Bad Key": name part must consist of/],
    [{ OVERSALE_RULES: `${LABEL}=not ok:cpu=2` }, /label value "not ok" must be empty or consist of/],
    [{ OVERSALE_MAX: 'cpu=lots' }, /OVERSALE_MAX: entry "cpu=lots": "lots" is not a quantity/],
    [
      { OVERSALE_MAX: 'disk=1Ti' },
      /OVERSALE_MAX: entry "disk=1Ti": resource "disk" is not one of cpu, memory/,
    ],
  ];
  for (const [bad, message] of badConfig) {
    it(`refuses to start with ${JSON.stringify(bad)}`, () => {
      assert.throws(() => loadConfig(functionNamed(NAME), bad), message);
    });
  }
});
