// A review as large as the apiserver sends: a Knative pod grown to `bytes` of JSON with
// environment variables on its user container, keeping the fixture's annotations so that
// every function still has work to do.
import type { Json } from './reviews.ts';

export const MiB = 1024 * 1024;

export function largeReview(reviewed: Json, bytes: number): Json {
  const copy = structuredClone(reviewed);
  const container = copy.request.object.spec.containers.find((c: Json) => c.name === 'user-container');
  container.env ??= [];
  const value = 'v'.repeat(100);
  let size = JSON.stringify(copy).length;
  for (let i = 0; size < bytes; i++) {
    const variable = { name: `SETTING_${String(i).padStart(6, '0')}`, value };
    container.env.push(variable);
    size += JSON.stringify(variable).length + 1;
  }
  return copy;
}
