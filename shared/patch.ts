// Mutate a copy, diff once. The copy is copy-on-write (immer): untouched subtrees stay the
// very same objects, and fast-json-patch's diff skips identical references, so the cost of
// a review grows with what the mutation changes, not with the size of the object.
import jsonPatch, { type Operation } from 'fast-json-patch';
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

/** The minimal RFC 6902 patch from `before` to `after` (keys escaped with ~0 and ~1). */
export function diff(before: object, after: object): Operation[] {
  return before === after ? [] : jsonPatch.compare(before, after);
}
