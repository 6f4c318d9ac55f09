// The AdmissionReviews the benchmark sends: the Knative revision pod of the shared fixtures
// (10 kB), a bare pod, and that revision pod grown to 1 MiB. Built deterministically, so
// figures from different commits measure the same bytes.
import { largeReview, MiB } from '../test/support/large-review.ts';
import { sharedFixture as fixture, type Json } from '../test/support/reviews.ts';

export interface BenchCase {
  readonly name: string;
  readonly description: string;
  /** The request body, exactly as sent. */
  readonly body: string;
  readonly review: Json;
  /** Also measured one request at a time: its goal is a time per review, not under load. */
  readonly singleConnection: boolean;
}

function benchCase(name: string, description: string, review: Json, singleConnection = false): BenchCase {
  return { name, description, review, body: JSON.stringify(review), singleConnection };
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
      largeReview(fixture('knative-pod-netease-annotations.v1.json'), MiB, 3),
      true,
    ),
  ];
}
