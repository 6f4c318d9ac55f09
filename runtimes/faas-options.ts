// faas-js-runtime's options, read from the same variables its CLI reads, with one difference:
// the body limit defaults to 8 MiB instead of 1 MiB.
import * as z from 'zod';
import { readEnvConfig } from '../shared/config.ts';
import { ConfigError } from '../shared/errors.ts';
import { BODY_LIMIT, type IntakeSettings, intakeSettingsShape } from './settings.ts';

export { BODY_LIMIT } from './settings.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface FaasOptions {
  port: number;
  logLevel: (typeof LOG_LEVELS)[number];
  bodyLimit: number;
  includeRaw: false;
  /** Timeouts and the bytes of bodies in flight, read under the same names as on every runtime. */
  intake: IntakeSettings;
}

const intakeSettings = z.object(intakeSettingsShape());

/**
 * FUNC_PORT (or Knative's PORT, default 8080), FUNC_LOG_LEVEL (warn), FUNC_BODY_LIMIT (8 MiB),
 * and the intake settings of every runtime (HEADERS_TIMEOUT_SECONDS, IN_FLIGHT_BODY_LIMIT...).
 */
export function faasOptions(env: NodeJS.ProcessEnv = process.env): FaasOptions {
  const logLevel = env.FUNC_LOG_LEVEL || 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`FUNC_LOG_LEVEL: "${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return {
    port: integer(env.FUNC_PORT ? 'FUNC_PORT' : 'PORT', env.FUNC_PORT || env.PORT, 8080, 0, 65535),
    logLevel: logLevel as FaasOptions['logLevel'],
    bodyLimit: integer('FUNC_BODY_LIMIT', env.FUNC_BODY_LIMIT, BODY_LIMIT, 1, Number.MAX_SAFE_INTEGER),
    includeRaw: false,
    intake: readEnvConfig('faas-js-runtime: invalid configuration', intakeSettings, env),
  };
}

function integer(variable: string, value: string | undefined, fallback: number, min: number, max: number) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(`${variable}: "${value}" is not a whole number from ${min} to ${max}`);
  }
  return n;
}
