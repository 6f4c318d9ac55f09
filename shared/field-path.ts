// Where a problem is, written one way everywhere: a field path (`request.object.spec`,
// `containers[0].image`), an annotation's item (`item 3 (volume "data")`), a label for the part
// of the object it is in (`annotation x`, `revision template (spec.template)`), one level after
// another: `annotation x: item 3 (volume "data"): hostPath.path`.
import type * as z from 'zod';

/** The name of a list's element, said beside its index: `("app")`, `(volume "data")`. */
export interface Named {
  readonly what?: string;
  readonly name: string;
}

/** One step of a path: a field name, a list index, a map key, a list item as annotations number them, or a label. */
export type PathPart =
  | { readonly field: string }
  | { readonly index: number; readonly named?: Named }
  | { readonly key: string }
  | { readonly item: number; readonly named?: Named }
  | { readonly label: string };

/** A path's levels joined with ": "; the fields of one level dotted, indexes and keys in brackets. */
export function formatFieldPath(path: readonly PathPart[]): string {
  const levels: string[] = [];
  let run = '';
  const flush = () => {
    if (run) levels.push(run);
    run = '';
  };
  for (const part of path) {
    if ('field' in part) run += run ? `.${part.field}` : part.field;
    else if ('index' in part) run += `[${part.index}]${namedText(part.named)}`;
    else if ('key' in part) run += `[${part.key}]`;
    else {
      flush();
      levels.push('label' in part ? part.label : `item ${part.item}${namedText(part.named)}`);
    }
  }
  flush();
  return levels.join(': ');
}

function namedText(named: Named | undefined): string {
  if (!named) return '';
  return named.what ? ` (${named.what} "${named.name}")` : ` ("${named.name}")`;
}

/** `message`, after where it is when it is anywhere. */
export function placed(path: readonly PathPart[], message: string): string {
  const where = formatFieldPath(path);
  return where ? `${where}: ${message}` : message;
}

/**
 * A zod path as path parts: numbers are indexes, the rest fields. `items`: a leading number is
 * an item of a list the user wrote (a JSON annotation), `item 0`, not `[0]`.
 */
export function pathOf(path: readonly PropertyKey[], options: { items?: boolean } = {}): PathPart[] {
  return path.map((part, at) => {
    if (typeof part !== 'number') return { field: String(part) };
    return at === 0 && options.items ? { item: part } : { index: part };
  });
}

/** A dotted field path, `prefix` before it (`request.object.spec.containers[0]`). */
export function formatPath(path: readonly PropertyKey[], prefix = ''): string {
  return formatFieldPath([...(prefix ? [{ field: prefix }] : []), ...pathOf(path)]);
}

/** Renders zod issues as `field: problem; field: problem`, each field written under `prefix`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => placed([...(prefix ? [{ field: prefix }] : []), ...pathOf(issue.path)], issue.message))
    .join('; ');
}
