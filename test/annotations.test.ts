// readJsonAnnotation remembers the outcome for the annotation texts it saw last: pods of one
// revision share them. What it hands out is frozen and names the right annotation.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as z from 'zod';
import { Denial } from '../shared/denial.ts';
import { readJsonAnnotation } from '../shared/k8s/annotations.ts';

const schema = z.array(z.strictObject({ name: z.string(), size: z.number().optional() }));
const pod = (annotations: Record<string, string>) => ({ metadata: { annotations } });

describe('readJsonAnnotation', () => {
  it('gives the same frozen value for the same text, read once', () => {
    const text = '[{"name":"a","size":1}]';
    const first = readJsonAnnotation(pod({ k: text }), 'k', schema);
    const second = readJsonAnnotation(pod({ k: text }), 'k', schema);
    assert.deepEqual(first, [{ name: 'a', size: 1 }]);
    assert.equal(second, first);
    const [item] = first as { name: string }[];
    assert.ok(item && Object.isFrozen(first) && Object.isFrozen(item));
    assert.throws(() => {
      item.name = 'b';
    }, TypeError);
  });

  it('names the annotation a denial is about, whichever key read the same text first', () => {
    const text = '[{"name":"a","colour":"red"}]';
    const one = readJsonAnnotation(pod({ one: text }), 'one', schema);
    const two = readJsonAnnotation(pod({ two: text }), 'two', schema);
    assert.ok(one instanceof Denial && two instanceof Denial);
    assert.match(one.message, /^annotation one: item 0: /);
    assert.match(two.message, /^annotation two: item 0: /);
    const broken = readJsonAnnotation(pod({ three: '[{' }), 'three', schema);
    assert.ok(broken instanceof Denial);
    assert.match(broken.message, /^annotation three: not valid JSON: /);
  });

  it('keeps a bounded number of texts, and none that are very long', () => {
    const text = '[{"name":"first"}]';
    const first = readJsonAnnotation(pod({ k: text }), 'k', schema);
    for (let i = 0; i < 100; i++) readJsonAnnotation(pod({ k: `[{"name":"n${i}"}]` }), 'k', schema);
    const again = readJsonAnnotation(pod({ k: text }), 'k', schema);
    assert.deepEqual(again, first);
    assert.notEqual(again, first, 'the first text should have been forgotten');

    const long = JSON.stringify([{ name: 'x'.repeat(20_000) }]);
    const a = readJsonAnnotation(pod({ k: long }), 'k', schema);
    const b = readJsonAnnotation(pod({ k: long }), 'k', schema);
    assert.deepEqual(a, b);
    assert.notEqual(a, b);
    assert.ok(Object.isFrozen(a));
  });

  it('is undefined when the annotation is absent', () => {
    assert.equal(readJsonAnnotation(pod({}), 'k', schema), undefined);
    assert.equal(readJsonAnnotation({}, 'k', schema), undefined);
  });
});
