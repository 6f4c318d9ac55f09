// What the apiserver sends a webhook, from a function's registration settings: label
// selectors as Kubernetes matches them and match conditions evaluated as CEL, so tests can
// check that a function's selectors send exactly the requests it is meant to see.
import { evaluate } from '@marcbachmann/cel-js';
import type { LabelSelector, WebhookSettings } from '../../shared/mutation.ts';

type Labels = Readonly<Record<string, string>> | undefined;

/** metav1.LabelSelector semantics: every matchLabels pair and every expression must hold. */
export function selectorMatches(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const has = (key: string) => labels !== undefined && Object.hasOwn(labels, key);
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels?.[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const value = labels?.[key];
    const holds =
      operator === 'Exists'
        ? has(key)
        : operator === 'DoesNotExist'
          ? !has(key)
          : operator === 'In'
            ? value !== undefined && values.includes(value)
            : value === undefined || !values.includes(value);
    if (!holds) return false;
  }
  return true;
}

export interface Sent {
  /** Labels of the request's namespace, as the apiserver looks them up. */
  namespaceLabels: Record<string, string>;
  // biome-ignore lint/suspicious/noExplicitAny: a review's request as JSON
  request: any;
}

/** The names of the entries of `settings` that would send this request (empty: not sent). */
export function matchingEntries(settings: WebhookSettings, { namespaceLabels, request }: Sent): string[] {
  const object = request.object ?? request.oldObject;
  const objectLabels = object?.metadata?.labels;
  if (settings.objectLabelExists && objectLabels?.[settings.objectLabelExists] === undefined) return [];
  const matches = settings.matches ?? [{ name: '' }];
  return matches
    .filter(
      (match) =>
        selectorMatches(match.namespaceSelector, namespaceLabels) &&
        selectorMatches(match.objectSelector, objectLabels) &&
        (match.matchConditions ?? []).every(
          (condition) =>
            evaluate(condition.expression, {
              object: request.object ?? null,
              oldObject: request.oldObject ?? null,
              request,
            }) === true,
        ),
    )
    .map((match) => match.name);
}
