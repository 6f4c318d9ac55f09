// Unknown keys in configuration, refused by one rule everywhere: a misspelt field (`runAsNonRot`,
// `imagePullpolicy`, `kubelett`) must stop the function at start, naming the field, instead of
// being dropped (the apiserver drops unknown fields of a patch without a word).
import * as z from 'zod';

/** The known name `name` was most likely meant to be: the same but for case, or one or two edits away. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  if (name.length > 64) return undefined;
  const lower = name.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase) return sameCase;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** `is not a field of <what> (did you mean X?)`, or the known fields when none is near. */
export function unknownFieldMessage(key: string, known: readonly string[], what: string): string {
  const near = nearestName(key, known);
  const hint = near ? `did you mean ${near}?` : known.length <= 12 ? `known: ${known.join(', ')}` : '';
  return `is not a field of ${what}${hint ? ` (${hint})` : ''}`;
}

/** The own keys of `value` that are not in `known`, each with its message. */
export function unknownFields(
  value: object,
  known: readonly string[],
  what: string,
): { key: string; message: string }[] {
  return Object.keys(value)
    .filter((key) => !known.includes(key))
    .map((key) => ({ key, message: unknownFieldMessage(key, known, what) }));
}

/**
 * A superRefine that refuses the keys of an object not in `known`, each an issue at its own
 * path: `containers[0].securityContext.runAsNonRot: is not a field of a core/v1
 * SecurityContext (did you mean runAsNonRoot?)`. For z.looseObject and z.record schemas.
 */
export function refuseUnknownFields(known: readonly string[], what: string) {
  return (value: unknown, ctx: z.RefinementCtx): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const { key, message } of unknownFields(value, known, what)) {
      ctx.addIssue({ code: 'custom', path: [key], message });
    }
  };
}

/**
 * z.strictObject, but an unknown key is refused by the rule above (`readonly: is not a field of
 * a hostPath rule (did you mean readOnly?)`) instead of zod's bare `Unrecognized key`.
 */
export function fieldsObject<Shape extends z.core.$ZodLooseShape>(shape: Shape, what: string) {
  return z.looseObject(shape).superRefine(refuseUnknownFields(Object.keys(shape), what));
}

/** Levenshtein distance of two short strings (both at most 64 characters here). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
