// Reads JSON held in annotations. Every problem becomes a denial that names the annotation,
// the item and the field, because the person who reads it only sees a FailedCreate event.
import type * as z from 'zod';
import { type Denial, denyAll, invalid } from '../denial.ts';
import { formatFieldPath, pathOf } from '../field-path.ts';
import { nearestName } from './known-fields.ts';

interface WithMetadata {
  metadata?: { annotations?: Record<string, string> | null } | null;
}

export function annotation(object: WithMetadata, key: string): string | undefined {
  return object.metadata?.annotations?.[key] ?? undefined;
}

/** Where in an annotation's JSON an item or field is: `item 0: hostPath.path`. */
function describeLocation(path: readonly PropertyKey[]): string {
  return formatFieldPath(pathOf(path, { items: true }));
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
  if (typeof text !== 'string') return invalid('must be a string of JSON').viaAnnotation(key);
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
    return invalid(`not valid JSON: ${(error as Error).message}`).viaAnnotation(key);
  }
  const shapeProblem = jsonShapeProblem(value) ?? duplicateKeyProblem(text);
  if (shapeProblem) return invalid(shapeProblem).viaAnnotation(key);
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) =>
    invalid(issue.message, ...pathOf(issue.path, { items: true })),
  );
  return (denyAll(problems) as Denial).within(`annotation ${key}`);
}

/**
 * A key written twice in one object of `text` (valid JSON), named with where it is, or
 * undefined. JSON.parse keeps the last one without a word, so `{"readOnly":true,"readOnly":false}`
 * would mean something else than a reader sees. One pass over the text, no recursion: each
 * object's keys are held only while it is open, and a key is decoded only when it has escapes.
 */
export function duplicateKeyProblem(text: string): string | undefined {
  interface Open {
    keys?: Set<string>;
    /** The key being read (objects) or the index (arrays): where the next child is. */
    at: string | number;
    expectKey: boolean;
  }
  const stack: Open[] = [];
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    const top = stack.at(-1);
    if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), at: '', expectKey: true });
      i++;
    } else if (c === 0x5b /* [ */) {
      stack.push({ at: 0, expectKey: false });
      i++;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      i++;
    } else if (c === 0x2c /* , */) {
      if (top && typeof top.at === 'number') top.at++;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === 0x22 /* " */) {
      let end = i + 1;
      let escaped = false;
      while (end < text.length && text.charCodeAt(end) !== 0x22) {
        if (text.charCodeAt(end) === 0x5c /* \ */) {
          escaped = true;
          end++;
        }
        end++;
      }
      if (top?.keys && top.expectKey) {
        const raw = text.slice(i, end + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (top.keys.has(key)) {
          const path = [...stack.slice(0, -1).map((open) => open.at)];
          const where = describeLocation(path);
          return `${where ? `${where}: ` : ''}key "${key}" is written twice (JSON would keep only the last one): write it once`;
        }
        top.keys.add(key);
        top.at = key;
        top.expectKey = false;
      }
      i = end + 1;
    } else {
      i++;
    }
  }
  return undefined;
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

/**
 * Every annotation the project reads under its prefix (ANNOTATION_PREFIX), with who reads it.
 * Several functions share the prefix, so one list: a key none of them reads is a mistake
 * (`volumemounts`, `nodeselector`) that would otherwise be admitted without a word.
 */
export const KNOWN_PREFIX_ANNOTATIONS: Readonly<Record<string, string>> = Object.freeze({
  volumes: 'volume-extension',
  volumeMounts: 'volume-extension',
  nodeSelector: 'node-selector',
  inject: 'sidecar-injection',
  injected: 'sidecar-injection (the status it writes)',
  oversale: 'node-oversale (the record it writes on Nodes)',
});

const KNOWN_NAMES = Object.keys(KNOWN_PREFIX_ANNOTATIONS);
/** Unknown keys named one by one; the rest are counted (the apiserver keeps few warnings). */
const MAX_NAMED_UNKNOWN = 3;

/** The keys of `object`'s annotations under `prefix/` that no function of the project reads. */
export function unknownPrefixAnnotations(object: WithMetadata, prefix: string): string[] {
  const annotations = object.metadata?.annotations;
  if (!annotations || typeof annotations !== 'object') return [];
  const start = `${prefix}/`;
  return Object.keys(annotations).filter(
    (key) => key.startsWith(start) && !Object.hasOwn(KNOWN_PREFIX_ANNOTATIONS, key.slice(start.length)),
  );
}

/** Unknown keys under `prefix/` as a denial (400): one problem per key (a few), then a count. */
export function unknownAnnotationsDenial(keys: readonly string[], prefix: string): Denial | undefined {
  const named = keys.slice(0, MAX_NAMED_UNKNOWN).map((key) => {
    const near = nearestName(key.slice(prefix.length + 1), KNOWN_NAMES);
    const hint = near ? `did you mean ${prefix}/${near}?` : `known: ${KNOWN_NAMES.join(', ')}`;
    return invalid(`no function reads this key under ${prefix}/ (${hint})`).viaAnnotation(key);
  });
  const more = keys.length - named.length;
  return denyAll([
    ...named,
    more > 0 ? invalid(`and ${more} more unknown annotations under ${prefix}/`) : undefined,
  ]);
}

/** What to tell about unknown keys under `prefix/` (as warnings): one line per key (a few), then a count. */
export function describeUnknownAnnotations(keys: readonly string[], prefix: string): readonly string[] {
  return unknownAnnotationsDenial(keys, prefix)?.problems ?? [];
}
