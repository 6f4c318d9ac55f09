// Every function loaded, in the order of functions/registry.ts, for what serves or describes
// them all (the CLI, the standalone and OpenFaaS servers, the generators). A deployed instance
// serving one function loads only that one, through functions/registry.ts.
import type { AnyMutation } from '../shared/mutation.ts';
import { functionLoaders } from './registry.ts';

export const functions: ReadonlyMap<string, AnyMutation> = new Map(
  await Promise.all([...functionLoaders].map(async ([name, load]) => [name, await load()] as const)),
);

export function functionNamed(name: string): AnyMutation {
  const mutation = functions.get(name);
  if (!mutation)
    throw new Error(`unknown function "${name}" (functions: ${[...functions.keys()].join(', ')})`);
  return mutation;
}
