// Reads JSON held in annotations. Every problem becomes a denial that names the annotation,
// the item and the field, because the person who reads it only sees a FailedCreate event.
import type { V1ObjectMeta, V1PodSpec } from '@kubernetes/client-node';
import type { z } from 'zod';
import { type Denial, deny } from '../mutation.ts';
import { formatPath } from '../review.ts';

interface WithMetadata {
  metadata?: { annotations?: Record<string, string> | null } | null;
}

/** A pod, or a pod template (a Knative revision template): what annotation-driven functions work on. */
export interface PodShaped {
  metadata?: V1ObjectMeta;
  spec?: V1PodSpec;
}

export function annotation(object: WithMetadata, key: string): string | undefined {
  return object.metadata?.annotations?.[key] ?? undefined;
}

/** Where an item or field is: `item 0: hostPath.path` for arrays, `key "x"` for maps. */
export function describeLocation(path: readonly PropertyKey[]): string {
  const [first, ...rest] = path;
  if (typeof first === 'number') {
    const field = formatPath(rest);
    return field ? `item ${first}: ${field}` : `item ${first}`;
  }
  return formatPath(path);
}

/**
 * Parses annotation `key` as JSON and checks it with `schema`. Returns undefined when the
 * annotation is absent, the parsed value, or a denial (400) naming annotation, item, field.
 */
export function readJsonAnnotation<S extends z.ZodType>(
  object: WithMetadata,
  key: string,
  schema: S,
): z.output<S> | Denial | undefined {
  const text = annotation(object, key);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return deny(`annotation ${key}: not valid JSON: ${(error as Error).message}`, 400);
  }
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = describeLocation(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  return deny(`annotation ${key}: ${problems.join('; ')}`, 400);
}
