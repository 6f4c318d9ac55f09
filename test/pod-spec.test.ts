// isPodSpec is podSpecSchema written by hand, to check large pods without copying them: the two
// must accept exactly the same specs.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPodSpec, podSpecProblem, podSpecSchema } from '../shared/k8s/pod.ts';
import { changeCopy } from '../shared/patch.ts';
import { type Json, sharedFixture } from './support/reviews.ts';

// The fixture's spec, with every list and map the check looks at present.
const fixtureSpec = sharedFixture('knative-pod-netease-annotations.v1.json').request.object.spec;
const spec = {
  ...fixtureSpec,
  initContainers: [{ ...fixtureSpec.containers[1], name: 'init' }],
  ephemeralContainers: [{ name: 'debugger', image: 'busybox' }],
  nodeSelector: { disktype: 'ssd' },
};

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const WRONG = [undefined, null, 7, 'text', true, [], {}, [null], [{}], { name: 1 }, [{ name: 'x' }]];

/** The fixture's spec with one to three values somewhere in it replaced by a wrong one. */
function corrupted(seed: number): Json {
  const next = random(seed);
  const copy = structuredClone(spec);
  const edits = 1 + Math.floor(next() * 3);
  for (let e = 0; e < edits; e++) {
    // From the spec or straight from one of its containers (where most fields are), walk down a
    // few levels, then replace one key or item.
    const containers = Array.isArray(copy.containers) ? copy.containers : [];
    let node: Json =
      next() < 0.5 || containers.length === 0 ? copy : containers[Math.floor(next() * containers.length)];
    for (let depth = 0; depth < 4; depth++) {
      const keys = node && typeof node === 'object' ? Object.keys(node) : [];
      if (keys.length === 0) break;
      const key = keys[Math.floor(next() * keys.length)] as string;
      const child = node[key];
      if (next() < 0.4 || child === null || typeof child !== 'object') {
        node[key] = structuredClone(WRONG[Math.floor(next() * WRONG.length)]);
        break;
      }
      node = child;
    }
  }
  return copy;
}

describe('pod spec check', () => {
  it('isPodSpec accepts exactly what podSpecSchema accepts', () => {
    let refused = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const candidate = corrupted(seed);
      const expected = podSpecSchema.safeParse(candidate).success;
      assert.equal(
        isPodSpec(candidate),
        expected,
        `seed ${seed}: ${JSON.stringify(candidate).slice(0, 300)}`,
      );
      if (!expected) refused++;
    }
    // The generator must exercise both answers.
    assert.ok(refused > 500 && refused < 2900, `refused ${refused} of 3000`);
    for (const whole of [undefined, null, 'x', [], {}, { containers: [] }, { containers: {} }]) {
      assert.equal(isPodSpec(whole), podSpecSchema.safeParse(whole).success, JSON.stringify(whole));
    }
  });

  it('names the problem as zod does, for a plain spec and for a copy-on-write draft of it', () => {
    const broken = structuredClone(spec);
    broken.containers[1].volumeMounts = [null];
    const message = 'spec.containers[1].volumeMounts[0]: Invalid input: expected object, received null';
    assert.equal(podSpecProblem(broken), message);
    changeCopy({ spec: broken }, (draft: Json) => {
      assert.equal(podSpecProblem(draft.spec), message);
      return draft;
    });
    assert.equal(podSpecProblem(spec), undefined);
  });
});
