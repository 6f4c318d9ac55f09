import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeDifference, firstDifference } from '../shared/k8s/subset.ts';

describe('subset', () => {
  it('finds where a present value stops containing the wanted one', () => {
    const wanted = { name: 'a', image: 'a:1', resources: { limits: { memory: '1Gi' } }, args: ['x', 'y'] };
    const present = { ...wanted, imagePullPolicy: 'IfNotPresent' };
    assert.equal(firstDifference(wanted, present), undefined, 'defaults added by the apiserver are fine');
    assert.deepEqual(firstDifference(wanted, { ...present, image: 'a:2' }), ['image']);
    assert.deepEqual(firstDifference(wanted, { ...present, resources: { limits: { memory: '2Gi' } } }), [
      'resources',
      'limits',
      'memory',
    ]);
    assert.deepEqual(firstDifference(wanted, { ...present, args: ['x', 'z'] }), ['args', 1]);
    assert.deepEqual(firstDifference(wanted, { ...present, args: ['x'] }), ['args']);
    assert.deepEqual(firstDifference('a', 'b'), []);
  });

  it('describes the difference for a message', () => {
    assert.equal(
      describeDifference({ emptyDir: {} }, { hostPath: { path: '/x' } }, 'template'),
      'emptyDir: nothing in the pod, {} in the template',
    );
    assert.equal(
      describeDifference({ args: ['x', 'y'] }, { args: ['x', 'z'] }, 'template'),
      'args[1]: "z" in the pod, "y" in the template',
    );
    assert.equal(describeDifference({ a: 1 }, { a: 1, b: 2 }, 'template'), undefined);
  });
});
