// Every function the project ships, by the name it is deployed and invoked under.
import type { AnyMutation } from '../shared/mutation.ts';
import configVolume from './config-volume/index.ts';
import imageMirror from './image-mirror/index.ts';
import knativeServiceValidation from './knative-service-validation/index.ts';
import labelStamping from './label-stamping/index.ts';
import nodeOversale from './node-oversale/index.ts';
import nodeSelector from './node-selector/index.ts';
import sidecarInjection from './sidecar-injection/index.ts';
import volumeExtension from './volume-extension/index.ts';

export const functions: ReadonlyMap<string, AnyMutation> = new Map(
  [
    volumeExtension,
    nodeSelector,
    labelStamping,
    sidecarInjection,
    imageMirror,
    nodeOversale,
    configVolume,
    knativeServiceValidation,
  ].map((m) => [m.name, m]),
);

export function functionNamed(name: string): AnyMutation {
  const mutation = functions.get(name);
  if (!mutation)
    throw new Error(`unknown function "${name}" (functions: ${[...functions.keys()].join(', ')})`);
  return mutation;
}
