// Reads a mutation's configuration (and a server's settings) once from the environment. Bad
// configuration stops the function at start with a message that names the variable and the problem.
import * as z from 'zod';
import { ConfigError } from './errors.ts';
import { describeIssues } from './field-path.ts';
import type { AnyMutation } from './mutation.ts';

/** `annotationPrefix` -> `ANNOTATION_PREFIX`. */
export function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function loadConfig<M extends AnyMutation>(
  mutation: M,
  env: NodeJS.ProcessEnv = process.env,
): z.output<M['config']> {
  return readEnvConfig(`${mutation.name}: invalid configuration`, mutation.config, env) as z.output<
    M['config']
  >;
}

/**
 * Reads the keys of a z.object (optionally followed by a transform) from the environment,
 * each from the variable of the same name in CONSTANT_CASE. Problems raise a ConfigError that
 * starts with `label` and names each variable.
 */
export function readEnvConfig<S extends z.ZodType>(
  label: string,
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(objectShape(schema, label))) {
    const value = env[envName(key)];
    if (value !== undefined) input[key] = value;
  }
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const [key, ...rest] = issue.path;
      const variable = typeof key === 'string' ? envName(key) : 'configuration';
      return describeIssues([{ ...issue, path: rest }], variable);
    });
    throw new ConfigError(`${label}: ${issues.join('; ')}`);
  }
  return result.data;
}

export interface ConfigVariable {
  variable: string;
  description: string;
  /** The variable's own schema (its default, its metadata). */
  field: z.ZodType;
}

/** The variables a mutation reads, with their descriptions, for docs and `--help`. */
export function describeConfig(mutation: AnyMutation): ConfigVariable[] {
  return describeEnvConfig(mutation.config, mutation.name);
}

/** The variables `readEnvConfig` reads with this schema, with their descriptions. */
export function describeEnvConfig(config: z.ZodType, label = 'configuration'): ConfigVariable[] {
  return Object.entries(objectShape(config, label)).map(([key, field]) => ({
    variable: envName(key),
    description: (field as { description?: string }).description ?? '',
    field,
  }));
}

/** The keys of the config object, looking through a trailing transform. */
function objectShape(config: z.ZodType, label: string): Record<string, z.ZodType> {
  let schema: z.ZodType = config;
  while (schema instanceof z.ZodPipe) schema = schema.in as z.ZodType;
  if (!(schema instanceof z.ZodObject)) throw new Error(`${label}: config must be a z.object`);
  return schema.shape;
}

/**
 * The entries of a list-valued variable or mounted file: separated by commas or new lines,
 * `#` starts a comment, blank entries dropped.
 */
export function configEntries(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}
