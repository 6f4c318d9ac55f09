// The AdmissionReviews the benchmark sends: the Knative revision pod of the shared fixtures
// (10 kB), a bare pod, and a generated 1 MiB revision pod. Generated deterministically, so
// figures from different commits measure the same bytes.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDir } from '../test/support/apiserver.ts';

// biome-ignore lint/suspicious/noExplicitAny: reviews are plain JSON, edited freely here
type Json = any;

export interface BenchCase {
  readonly name: string;
  readonly description: string;
  /** The request body, exactly as sent. */
  readonly body: string;
  readonly review: Json;
  /** Also measured one request at a time: its goal is a time per review, not under load. */
  readonly singleConnection: boolean;
}

const MIB = 1024 * 1024;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(join(sharedDir, 'fixtures', name), 'utf8'));
}

function benchCase(name: string, description: string, review: Json, singleConnection = false): BenchCase {
  return { name, description, review, body: JSON.stringify(review), singleConnection };
}

/**
 * The Knative revision pod grown to `bytes` of JSON: the user container and queue-proxy plus
 * sidecars, each with thousands of env entries. The annotations stay, so the functions do the
 * same work as on the 10 kB pod while everything around it is a hundred times larger.
 */
export function largeKnativeReview(bytes = MIB): Json {
  const review = fixture('knative-pod-netease-annotations.v1.json');
  const spec = review.request.object.spec;
  const queueProxy = spec.containers[1];
  for (let i = 1; i <= 3; i++) {
    spec.containers.push({ ...structuredClone(queueProxy), name: `sidecar-${i}` });
  }
  let size = JSON.stringify(review).length;
  for (let i = 0; size < bytes; i++) {
    const container = spec.containers[i % spec.containers.length];
    const entry =
      i % 5 === 4
        ? {
            name: `SETTING_${String(i).padStart(5, '0')}`,
            valueFrom: { configMapKeyRef: { name: 'platform-settings', key: `setting-${i}` } },
          }
        : { name: `SETTING_${String(i).padStart(5, '0')}`, value: `value-${i}-${'x'.repeat(i % 40)}` };
    container.env ??= [];
    container.env.push(entry);
    size += JSON.stringify(entry).length + 1;
  }
  return review;
}

export function benchCases(): BenchCase[] {
  return [
    benchCase(
      'knative',
      'Knative revision pod with volume, mount and nodeSelector annotations (the shared fixture, 10 kB as stored)',
      fixture('knative-pod-netease-annotations.v1.json'),
    ),
    benchCase(
      'bare-pod',
      'small pod without labels or annotations (kubectl run)',
      fixture('plain-pod-no-labels.v1.json'),
    ),
    benchCase(
      'knative-1mib',
      'the Knative revision pod grown to 1 MiB: 5 containers, thousands of env entries',
      largeKnativeReview(),
      true,
    ),
  ];
}
