// Every function by name, each loaded only when asked for: a deployed instance serves one
// function, and loading the others' code (their schemas, YAML, policies) only costs it start
// time and memory. The names and their order are those of functions/index.ts
// (test/function-registry.test.ts checks both).
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
