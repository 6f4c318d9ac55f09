// Reads JSON held in annotations. Every problem becomes a denial that names the annotation,
// the item and the field, because the person who reads it only sees a FailedCreate event.
import type { z } from 'zod';
import { type Denial, deny } from '../mutation.ts';
import { formatPath } from '../review.ts';

interface WithMetadata {
  metadata?: { annotations?: Record<string, string> | null } | null;
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
 * The value is frozen: it may be handed to later reviews too (see `remembered`).
 */
export function readJsonAnnotation<S extends z.ZodType>(
  object: WithMetadata,
  key: string,
  schema: S,
): z.output<S> | Denial | undefined {
  const text: unknown = annotation(object, key);
  if (text === undefined) return undefined;
  // A pod's annotations are strings; a template inside another object (a Knative Service's)
  // may not have been checked by anyone yet.
  if (typeof text !== 'string') return deny(`annotation ${key}: must be a string of JSON`, 400);
  return remembered(schema, key, text, () => parseJsonAnnotation(key, text, schema));
}

function parseJsonAnnotation<S extends z.ZodType>(
  key: string,
  text: string,
  schema: S,
): z.output<S> | Denial {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return deny(`annotation ${key}: not valid JSON: ${(error as Error).message}`, 400);
  }
  const shapeProblem = jsonShapeProblem(value);
  if (shapeProblem) return deny(`annotation ${key}: ${shapeProblem}`, 400);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const where = describeLocation(issue.path);
    return where ? `${where}: ${issue.message}` : issue.message;
  });
  return deny(`annotation ${key}: ${problems.join('; ')}`, 400);
}

// Every pod of a Knative revision carries the same annotations, so the outcome for the last
// texts seen is kept per schema: the next review skips the JSON parse and the checks.
// Bounded in entries and in text size; outcomes are deep-frozen, since later reviews share them.
const REMEMBERED_ENTRIES = 64;
const REMEMBERED_TEXT_LENGTH = 16 * 1024;
/** Per schema, per annotation key: text -> outcome, oldest first. */
const rememberedOutcomes = new WeakMap<z.ZodType, Map<string, Map<string, unknown>>>();

function remembered<T>(schema: z.ZodType, key: string, text: string, read: () => T): T {
  if (text.length > REMEMBERED_TEXT_LENGTH) return deepFreeze(read());
  let byKey = rememberedOutcomes.get(schema);
  if (!byKey) {
    byKey = new Map();
    rememberedOutcomes.set(schema, byKey);
  }
  let outcomes = byKey.get(key);
  if (!outcomes) {
    outcomes = new Map();
    byKey.set(key, outcomes);
  }
  if (outcomes.has(text)) return outcomes.get(text) as T;
  const outcome = deepFreeze(read());
  if (outcomes.size >= REMEMBERED_ENTRIES) outcomes.delete(outcomes.keys().next().value as string);
  outcomes.set(text, outcome);
  return outcome;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Deeper than anything a volume or selector needs; bounds the recursion of later steps. */
export const MAX_ANNOTATION_DEPTH = 32;

/**
 * What the schemas cannot be trusted with, found without recursion: nesting deeper than
 * MAX_ANNOTATION_DEPTH (copying and diffing recurse, and overflow the stack at a few thousand
 * levels), and `__proto__` keys (zod leaves them out without a word; refuse rather than act on
 * part of what was written).
 */
function jsonShapeProblem(value: unknown): string | undefined {
  interface Step {
    node: unknown;
    depth: number;
    key?: PropertyKey;
    parent?: Step;
  }
  const stack: Step[] = [{ node: value, depth: 0 }];
  for (let step = stack.pop(); step; step = stack.pop()) {
    const { node, depth } = step;
    if (node === null || typeof node !== 'object') continue;
    if (depth >= MAX_ANNOTATION_DEPTH) return `nested deeper than ${MAX_ANNOTATION_DEPTH} levels`;
    if (!Array.isArray(node) && Object.hasOwn(node, '__proto__')) {
      const path: PropertyKey[] = [];
      for (let at: Step | undefined = step; at?.key !== undefined; at = at.parent) path.unshift(at.key);
      const where = describeLocation(path);
      return `${where ? `${where}: ` : ''}"__proto__" is not allowed as a key`;
    }
    for (const [key, child] of Object.entries(node)) {
      stack.push({
        node: child,
        depth: depth + 1,
        key: Array.isArray(node) ? Number(key) : key,
        parent: step,
      });
    }
  }
  return undefined;
}
