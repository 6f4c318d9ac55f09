/**
 * True when every field `wanted` sets has the same value in `present` (arrays: same length,
 * item by item). Used to recognise something this webhook added earlier: the apiserver
 * defaults what a webhook adds (hostPath.type "", configMap.defaultMode 420), so on
 * reinvocation the pod holds our item plus defaults, which must count as "already there".
 */
export function isContainedIn(wanted: unknown, present: unknown): boolean {
  if (wanted === present) return true;
  if (typeof wanted !== 'object' || wanted === null || typeof present !== 'object' || present === null) {
    return false;
  }
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(present) &&
      wanted.length === present.length &&
      wanted.every((item, i) => isContainedIn(item, present[i]))
    );
  }
  if (Array.isArray(present)) return false;
  const have = present as Record<string, unknown>;
  return Object.entries(wanted).every(([key, value]) => isContainedIn(value, have[key]));
}
