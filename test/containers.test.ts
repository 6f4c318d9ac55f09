import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONTAINER_FIELDS, containerSchema } from '../shared/k8s/containers.ts';
import { sharedDir } from './support/apiserver.ts';

describe('container schema', () => {
  it('knows exactly the fields of the upstream core/v1 Container', () => {
    const pod = JSON.parse(readFileSync(join(sharedDir, 'schemas', 'kubernetes', 'pod-v1.json'), 'utf8'));
    const upstream = Object.keys(pod.properties.spec.properties.containers.items.properties);
    assert.deepEqual([...CONTAINER_FIELDS].sort(), upstream.sort());
  });

  it('writes resource quantities in canonical form', () => {
    const container = containerSchema.parse({
      name: 'agent',
      image: 'agent:1',
      resources: { requests: { cpu: 0.5, memory: '1024Mi' }, limits: { cpu: '2000m', memory: '1.5Gi' } },
    });
    assert.deepEqual(container.resources, {
      requests: { cpu: '500m', memory: '1Gi' },
      limits: { cpu: '2', memory: '1536Mi' },
    });
  });
});
