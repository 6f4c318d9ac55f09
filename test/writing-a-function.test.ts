// The example of docs/writing-a-function.md, tested as its author would with the function kit
// (test/support/function-kit.ts), and run through the generic checks every function passes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import defaultResources from '../docs/examples/default-resources/index.ts';
import { loadConfig } from '../shared/config.ts';
import { functionKit } from './support/function-kit.ts';
import { edited, sample } from './support/reviews.ts';

const pod = sample('plain-pod.json');

describe('the default-resources example', () => {
  const kit = functionKit(defaultResources, { DEFAULT_CPU_REQUEST: '250m' });

  it('fills the requests a container leaves out, from its configuration', async () => {
    await kit.expectPatched(pod, (object) => {
      assert.deepEqual(object.spec.containers[0].resources.requests, { cpu: '250m', memory: '128Mi' });
    });
  });

  it('keeps a request or limit the container sets', async () => {
    const limited = edited(pod, (object) => {
      object.spec.containers[0].resources = { requests: { memory: '1Gi' }, limits: { cpu: '2' } };
    });
    await kit.expectUnchanged(limited);
  });

  it('leaves DELETE and UPDATE alone', async () => {
    await kit.expectUnchanged(sample('pod-delete.json'));
    await kit.expectUnchanged(
      edited(pod, (_object, request) => {
        request.operation = 'UPDATE';
        request.oldObject = structuredClone(request.object);
      }),
    );
  });

  it('refuses a pod without a spec', async () => {
    const bare = edited(pod, (object) => {
      delete object.spec;
    });
    await kit.expectDenied(bare, '', 'the pod has no spec', { code: 400 });
  });

  it('refuses a configuration that is not a quantity, naming the variable', () => {
    assert.throws(
      () => loadConfig(defaultResources, { DEFAULT_MEMORY_REQUEST: 'lots' }),
      /default-resources: invalid configuration: DEFAULT_MEMORY_REQUEST: /,
    );
  });
});
