// Copy-on-write and diff: the cost of a review must follow what the mutation changes, not
// the size of the object. Checked by structure (shared references, patch contents), not time.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import jsonPatch from 'fast-json-patch';
import { benchFunctions } from '../bench/targets.ts';
import { functionNamed } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { Denial } from '../shared/denial.ts';
import { changeCopy, diff } from '../shared/patch.ts';
import { decodePatch } from '../shared/response.ts';
import { apiserverVerdicts } from './support/apiserver.ts';
import { largeReview, MiB } from './support/large-review.ts';
import { answer, type Json, sharedFixture } from './support/reviews.ts';

const knativePod = sharedFixture('knative-pod-netease-annotations.v1.json');
const largePod = largeReview(knativePod, MiB, 3);
/** The configuration the benchmark runs each function with (volume-extension under a volume policy). */
const envOf = (name: string) => ({ ...benchFunctions.find((f) => f.name === name)?.env });

describe('copy-on-write', () => {
  it('shares every subtree the mutation did not touch with the original, and leaves it unchanged', () => {
    const original = largePod.request.object;
    const before = JSON.stringify(original);
    const mutation = functionNamed('volume-extension');
    const config = loadConfig(mutation, envOf('volume-extension'));
    const context = { request: largePod.request, config, warn() {} };
    const changed: Json = changeCopy(original, (draft) => {
      const result = mutation.mutate(draft, context);
      assert.ok(!(result instanceof Denial));
      return result;
    });
    assert.equal(JSON.stringify(original), before, 'the original was modified');
    // Only the path to what changed is new: root, spec, the two arrays, the user container.
    assert.notEqual(changed, original);
    assert.notEqual(changed.spec.volumes, original.spec.volumes);
    assert.notEqual(changed.spec.containers[0].volumeMounts, original.spec.containers[0].volumeMounts);
    assert.equal(changed.metadata, original.metadata);
    assert.equal(changed.spec.containers[0].env, original.spec.containers[0].env);
    assert.equal(changed.spec.volumes[0], original.spec.volumes[0]);
    for (let i = 1; i < original.spec.containers.length; i++) {
      assert.equal(changed.spec.containers[i], original.spec.containers[i], `container ${i} was copied`);
    }
    assert.deepEqual(
      diff(original, changed).map((op) => `${op.op} ${op.path}`),
      ['add /spec/containers/0/volumeMounts/1', 'add /spec/volumes/1'],
    );
  });

  it('gives no patch, and the very same object, when the mutation changes nothing', () => {
    const original = knativePod.request.object;
    assert.equal(original.metadata.labels.app, 'hello-00001');
    const same = changeCopy(original, (draft: Json) => {
      draft.metadata.labels.app = 'hello-00001';
      return draft;
    });
    assert.equal(same, original);
    assert.deepEqual(diff(original, same), []);
  });
});

// A small seeded generator, so that a failing case can be replayed.
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['a', 'b', 'c', 'name', 'a/b', 'x~y', '~1', ''];

function value(next: () => number, depth: number): Json {
  const pick = next();
  if (depth > 3 || pick < 0.3) return [null, true, 1, 'text', 0, ''][Math.floor(next() * 6)];
  if (pick < 0.6) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth + 1));
  const object: Json = {};
  for (const key of KEYS) if (next() < 0.4) object[key] = value(next, depth + 1);
  return object;
}

/** `before` edited as a copy-on-write draft would leave it: untouched parts stay shared. */
function edit(before: Json, next: () => number, depth = 0): Json {
  if (typeof before !== 'object' || before === null) return next() < 0.3 ? value(next, depth) : before;
  const pick = next();
  if (pick < 0.4) return before; // untouched, shared
  if (pick < 0.45) return structuredClone(before); // equal content, new objects
  if (pick < 0.5) return value(next, depth); // replaced
  const after: Json = Array.isArray(before) ? [...before] : { ...before };
  for (const key of Object.keys(after)) after[key] = edit(after[key], next, depth + 1);
  if (Array.isArray(after)) {
    if (next() < 0.3) after.push(value(next, depth + 1));
    if (next() < 0.2) after.splice(Math.floor(next() * after.length), 1);
  } else {
    for (const key of KEYS) {
      const roll = next();
      if (roll < 0.1) delete after[key];
      else if (roll < 0.2) after[key] = value(next, depth + 1);
    }
  }
  return after;
}

describe('diff', () => {
  it('gives the same operations as fast-json-patch compare, and they turn before into after', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const next = random(seed);
      const before = { root: value(next, 0), other: value(next, 0) };
      const after = edit(before, next) as Json;
      if (typeof after !== 'object' || after === null || Array.isArray(after)) continue;
      const patch = diff(before, after);
      assert.deepEqual(patch, jsonPatch.compare(before, after), `seed ${seed}`);
      const applied = jsonPatch.applyPatch(structuredClone(before), structuredClone(patch)).newDocument;
      assert.deepEqual(applied, after, `seed ${seed}`);
    }
  });
});

describe('patches do not grow with the object', () => {
  it('functions patch the 1 MiB pod exactly as the 10 kB one, and the apiserver applies it', async () => {
    // Those whose change does not depend on the sidecars the large pod adds.
    const names = ['volume-extension', 'node-selector', 'label-stamping'];
    const small = names.map((name) => answer(name, knativePod, envOf(name)));
    const large = names.map((name) => answer(name, largePod, envOf(name)));
    for (const [i, name] of names.entries()) {
      const patch = decodePatch(large[i]?.response ?? { uid: '', allowed: false });
      assert.ok(patch.length > 0, `${name}: no patch`);
      assert.deepEqual(patch, decodePatch(small[i]?.response ?? { uid: '', allowed: false }), name);
    }
    const verdicts = await apiserverVerdicts(large.map((reply) => ({ request: largePod, reply })));
    for (const [i, verdict] of verdicts.entries()) {
      assert.ok(verdict.accepted && verdict.allowed, `${names[i]}: ${JSON.stringify(verdict).slice(0, 300)}`);
    }
  });
});
