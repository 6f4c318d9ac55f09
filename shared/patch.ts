// Mutate a copy, diff once. The copy is copy-on-write (immer): untouched subtrees stay the
// very same objects, and the diff skips identical references, so the cost of a review grows
// with what the mutation changes, not with the size of the object.
import type { Operation } from 'fast-json-patch';
import { enableArrayMethods, Immer, isDraft } from 'immer';

// find/some/filter/push on a draft array without a proxy per element: mutations search
// spec.containers and spec.volumes on every review.
enableArrayMethods();
// No auto-freeze: the result is diffed and dropped, freezing it would only cost time.
const immer = new Immer({ autoFreeze: false });

export type { Operation as PatchOperation };

/**
 * Runs `change` on a copy-on-write draft of `original` and returns the changed copy;
 * `original` is never modified. `change` may change the draft in place (returning it or
 * nothing) or return a replacement object.
 */
export function changeCopy<T extends object>(original: T, change: (draft: T) => T | undefined): T {
  return immer.produce(original, (draft: T) => {
    const result = change(draft);
    return result === undefined || result === draft || isDraft(result) ? undefined : result;
  }) as T;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;

/** A key as a JSON pointer segment: `~` is written `~0`, `/` is written `~1`. */
function escapeKey(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replaceAll('~', '~0').replaceAll('/', '~1') : key;
}

/**
 * The RFC 6902 patch from `before` to `after`: the operations fast-json-patch's `compare`
 * gives, found without building anything for a subtree both share (same reference). Values in
 * the patch are `after`'s own objects, not copies: serialise the patch before changing `after`.
 */
export function diff(before: object, after: object): Operation[] {
  const patch: Operation[] = [];
  if (before !== after) diffInto(before as Json, after as Json, '', patch);
  return patch;
}

function diffInto(before: Json, after: Json, path: string, patch: Operation[]): void {
  const oldKeys = Object.keys(before);
  const newKeys = Object.keys(after);
  const afterIsArray = Array.isArray(after);
  let removed = false;
  // Backwards, so that removals from an array keep the indices of the ones still to come.
  for (let i = oldKeys.length - 1; i >= 0; i--) {
    const key = oldKeys[i] as string;
    const oldValue = before[key];
    const newValue = after[key];
    if (oldValue === newValue && (oldValue !== undefined || Object.hasOwn(after, key))) continue;
    const at = `${path}/${escapeKey(key)}`;
    if (!Object.hasOwn(after, key) || (newValue === undefined && !afterIsArray)) {
      patch.push({ op: 'remove', path: at });
      removed = true;
    } else if (
      isObject(oldValue) &&
      isObject(newValue) &&
      Array.isArray(oldValue) === Array.isArray(newValue)
    ) {
      diffInto(oldValue, newValue, at, patch);
    } else {
      patch.push({ op: 'replace', path: at, value: newValue });
    }
  }
  if (!removed && newKeys.length === oldKeys.length) return;
  for (const key of newKeys) {
    if (!Object.hasOwn(before, key) && after[key] !== undefined) {
      patch.push({ op: 'add', path: `${path}/${escapeKey(key)}`, value: after[key] });
    }
  }
}
