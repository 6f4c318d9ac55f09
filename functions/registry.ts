// Every function the project ships, by the name it is deployed and invoked under, each loaded
// only when asked for: a deployed instance serves one function, and loading the others' code
// (their schemas, YAML, policies) only costs it start time and memory. This is the one list a
// new function is added to; functions/index.ts loads them all for the tools and servers that
// want every function (test/bundle.test.ts checks each name is its mutation's).
import type { AnyMutation } from '../shared/mutation.ts';

type Loader = () => Promise<AnyMutation>;

export const functionLoaders: ReadonlyMap<string, Loader> = new Map<string, Loader>([
  ['volume-extension', async () => (await import('./volume-extension/index.ts')).default],
  ['node-selector', async () => (await import('./node-selector/index.ts')).default],
  ['label-stamping', async () => (await import('./label-stamping/index.ts')).default],
  ['sidecar-injection', async () => (await import('./sidecar-injection/index.ts')).default],
  ['image-mirror', async () => (await import('./image-mirror/index.ts')).default],
  ['node-oversale', async () => (await import('./node-oversale/index.ts')).default],
  ['config-volume', async () => (await import('./config-volume/index.ts')).default],
  ['knative-service-validation', async () => (await import('./knative-service-validation/index.ts')).default],
]);
