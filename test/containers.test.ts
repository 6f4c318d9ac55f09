import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  CONTAINER_FIELDS,
  containerSchema,
  LIFECYCLE_FIELDS,
  PROBE_FIELDS,
  SECURITY_CONTEXT_FIELDS,
} from '../shared/k8s/containers.ts';
import { sharedDir } from './support/apiserver.ts';

describe('container schema', () => {
  it('knows exactly the fields of the upstream core/v1 Container', () => {
    const pod = JSON.parse(readFileSync(join(sharedDir, 'schemas', 'kubernetes', 'pod-v1.json'), 'utf8'));
    const upstream = Object.keys(pod.properties.spec.properties.containers.items.properties);
    assert.deepEqual([...CONTAINER_FIELDS].sort(), upstream.sort());
  });

  it('knows the fields of SecurityContext, Probe and Lifecycle as upstream has them', () => {
    const pod = JSON.parse(readFileSync(join(sharedDir, 'schemas', 'kubernetes', 'pod-v1.json'), 'utf8'));
    const fields = pod.properties.spec.properties.containers.items.properties;
    const of = (name: string) => Object.keys(fields[name].properties).sort();
    assert.deepEqual([...SECURITY_CONTEXT_FIELDS].sort(), of('securityContext'));
    assert.deepEqual([...PROBE_FIELDS].sort(), of('livenessProbe'));
    // stopSignal came after the schema held here; every field the schema has is known.
    assert.deepEqual(
      LIFECYCLE_FIELDS.filter((f) => f !== 'stopSignal'),
      of('lifecycle'),
    );
  });

  it('refuses an unknown field inside securityContext, probes and lifecycle, naming it', () => {
    const result = containerSchema.safeParse({
      name: 'agent',
      image: 'agent:1',
      securityContext: { runAsNonRot: true, capabilities: { drop: ['ALL'] } },
      livenessProbe: { httpGet: { port: 8080 }, periodSecond: 5 },
      lifecycle: { preStop: {} },
    });
    assert.equal(result.success, false);
    assert.deepEqual(
      result.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      [
        'livenessProbe.periodSecond: is not a field of a core/v1 Probe (did you mean periodSeconds?)',
        'securityContext.runAsNonRot: is not a field of a core/v1 SecurityContext (did you mean runAsNonRoot?)',
      ],
    );
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
