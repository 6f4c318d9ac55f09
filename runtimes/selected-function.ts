// The one function a deployed instance serves: named by FUNCTION, configured from the rest of
// the environment, loaded once at start. Only that function's code is loaded
// (functions/registry.ts). Every problem is a ConfigError that names the variable.
import { functionLoaders } from '../functions/registry.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import type { LoadedMutation } from '../shared/handler.ts';
import { loadMode } from '../shared/mode.ts';

export async function selectedFunction(env: NodeJS.ProcessEnv = process.env): Promise<LoadedMutation> {
  const name = env.FUNCTION;
  const known = [...functionLoaders.keys()].join(', ');
  if (!name) throw new ConfigError(`FUNCTION is not set: name the function to serve (${known})`);
  const load = functionLoaders.get(name);
  if (!load) throw new ConfigError(`FUNCTION: unknown function "${name}" (functions: ${known})`);
  const mutation = await load();
  return { mutation, config: loadConfig(mutation, env), mode: loadMode(mutation, env) };
}

/** Whether FUNCTION names one function (not a chain or nothing). */
export function namesOneFunction(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.FUNCTION !== undefined && functionLoaders.has(env.FUNCTION);
}
