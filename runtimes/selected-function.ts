// The one function a deployed instance serves: named by FUNCTION, configured from the rest of
// the environment, loaded once at start. Every problem is a ConfigError that names the variable.
import { functions } from '../functions/index.ts';
import { loadConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import type { LoadedMutation } from '../shared/handler.ts';
import { loadMode } from '../shared/mode.ts';

export function selectedFunction(env: NodeJS.ProcessEnv = process.env): LoadedMutation {
  const name = env.FUNCTION;
  const known = [...functions.keys()].join(', ');
  if (!name) throw new ConfigError(`FUNCTION is not set: name the function to serve (${known})`);
  const mutation = functions.get(name);
  if (!mutation) throw new ConfigError(`FUNCTION: unknown function "${name}" (functions: ${known})`);
  return { mutation, config: loadConfig(mutation, env), mode: loadMode(mutation, env) };
}
