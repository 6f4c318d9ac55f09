// Monitor mode: a function that only watches. It answers `allowed` with no patch, and warns,
// logs and counts what it would have done, so a new function or policy can run on a live
// cluster before it is enforced. MODE for every function of the process;
// <FUNCTION>_MODE (VOLUME_EXTENSION_MODE) for one of several served together.
import { ConfigError } from './errors.ts';
import type { AnyMutation } from './mutation.ts';

export type Mode = 'enforce' | 'monitor';
const MODES: readonly Mode[] = ['enforce', 'monitor'];

/** The variable that sets one function's mode (`VOLUME_EXTENSION_MODE`). */
export function modeVariable(functionName: string): string {
  return `${functionName.replace(/-/g, '_').toUpperCase()}_MODE`;
}

export function loadMode(mutation: AnyMutation, env: NodeJS.ProcessEnv = process.env): Mode {
  const own = modeVariable(mutation.name);
  const variable = env[own] !== undefined ? own : 'MODE';
  const value = env[variable];
  if (value === undefined || value === '') return 'enforce';
  if (!MODES.includes(value as Mode))
    throw new ConfigError(
      `${mutation.name}: invalid configuration: ${variable}: "${value}" is not one of ${MODES.join(', ')}`,
    );
  return value as Mode;
}
