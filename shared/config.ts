// Reads a mutation's configuration once from the environment. Bad configuration stops the
// function at start with a message that names the variable and the problem.
import { z } from 'zod';
import { ConfigError } from './errors.ts';
import type { AnyMutation } from './mutation.ts';
import { describeIssues } from './review.ts';

/** `annotationPrefix` -> `ANNOTATION_PREFIX`. */
export function envName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function loadConfig<M extends AnyMutation>(
  mutation: M,
  env: NodeJS.ProcessEnv = process.env,
): z.output<M['config']> {
  const input: Record<string, string> = {};
  for (const key of Object.keys(configShape(mutation))) {
    const value = env[envName(key)];
    if (value !== undefined) input[key] = value;
  }
  const result = mutation.config.safeParse(input);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const [key, ...rest] = issue.path;
      const variable = typeof key === 'string' ? envName(key) : 'configuration';
      return describeIssues([{ ...issue, path: rest }], variable);
    });
    throw new ConfigError(`${mutation.name}: invalid configuration: ${issues.join('; ')}`);
  }
  return result.data as z.output<M['config']>;
}

/** The variables a mutation reads, with their descriptions, for docs and `--help`. */
export function describeConfig(mutation: AnyMutation): { variable: string; description: string }[] {
  return Object.entries(configShape(mutation)).map(([key, schema]) => ({
    variable: envName(key),
    description: (schema as { description?: string }).description ?? '',
  }));
}

/** The keys of the config object, looking through a trailing transform. */
function configShape(mutation: AnyMutation): Record<string, z.ZodType> {
  let schema: z.ZodType = mutation.config;
  while (schema instanceof z.ZodPipe) schema = schema.in as z.ZodType;
  if (!(schema instanceof z.ZodObject)) throw new Error(`${mutation.name}: config must be a z.object`);
  return schema.shape;
}
