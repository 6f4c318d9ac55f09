// A review as large as the apiserver sends: a Knative pod grown to `bytes` of JSON with
// environment variables spread over its containers, keeping the fixture's annotations so that
// every function still has work to do. `sidecars` copies of queue-proxy make the pod wider too.
import type { Json } from './reviews.ts';

export const MiB = 1024 * 1024;

export function largeReview(reviewed: Json, bytes: number, sidecars = 0): Json {
  const copy = structuredClone(reviewed);
  const containers: Json[] = copy.request.object.spec.containers;
  const template = containers.find((c) => c.name === 'queue-proxy') ?? containers[0];
  for (let i = 1; i <= sidecars; i++) containers.push({ ...structuredClone(template), name: `sidecar-${i}` });
  const value = 'v'.repeat(100);
  let size = JSON.stringify(copy).length;
  for (let i = 0; size < bytes; i++) {
    const container = containers[i % containers.length];
    const variable = { name: `SETTING_${String(i).padStart(6, '0')}`, value };
    container.env ??= [];
    container.env.push(variable);
    size += JSON.stringify(variable).length + 1;
  }
  return copy;
}
