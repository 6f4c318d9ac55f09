import { formatPath } from '../field-path.ts';

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

/**
 * Where `present` first fails to contain `wanted` (see isContainedIn), for a message: the
 * field path (`image`, `resources.limits.memory`, `[2]` for an array of another length), or
 * undefined when it does contain it.
 */
export function firstDifference(wanted: unknown, present: unknown): PropertyKey[] | undefined {
  if (isContainedIn(wanted, present)) return undefined;
  if (typeof wanted !== 'object' || wanted === null || typeof present !== 'object' || present === null) {
    return [];
  }
  if (Array.isArray(wanted)) {
    if (!Array.isArray(present) || wanted.length !== present.length) return [];
    const i = wanted.findIndex((item, j) => !isContainedIn(item, present[j]));
    return [i, ...(firstDifference(wanted[i], present[i]) ?? [])];
  }
  const have = present as Record<string, unknown>;
  const [key, value] = Object.entries(wanted).find(([k, v]) => !isContainedIn(v, have[k])) ?? [];
  return key === undefined ? [] : [key, ...(firstDifference(value, have[key]) ?? [])];
}

/**
 * For a conflict message: `image: "a:2" in the pod, "a:1" in the template`, or undefined when
 * `present` contains `wanted`. `source` names where `wanted` comes from.
 */
export function describeDifference(wanted: unknown, present: unknown, source: string): string | undefined {
  const path = firstDifference(wanted, present);
  if (path === undefined) return undefined;
  const at = (value: unknown) =>
    path.reduce<unknown>((v, key) => (v as Record<PropertyKey, unknown>)?.[key], value);
  const show = (value: unknown) => {
    const text = value === undefined ? 'nothing' : JSON.stringify(value);
    return text.length > 60 ? `${text.slice(0, 59)}…` : text;
  };
  const field = formatPath(path) || 'the whole value';
  return `${field}: ${show(at(present))} in the pod, ${show(at(wanted))} in the ${source}`;
}
